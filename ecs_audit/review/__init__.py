"""`ecs-audit review`: the scan's checks over task and service definition files, before deploy."""
