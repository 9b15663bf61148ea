"""CloudWatch Logs: log groups referenced by containers."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record
from ecs_audit.inventory.ecs import ContainerDefinition


class LogGroup(AwsShape):
    log_group_name: str
    log_group_arn: str | None = None
    # Absent: events never expire.
    retention_in_days: int | None = None
    kms_key_id: str | None = None


class LogsInventory(Record):
    """The log groups this region's audited containers send awslogs output to."""

    log_groups: list[LogGroup] = []
    # Referenced names DescribeLogGroups did not return: the group does not exist.
    missing: list[str] = []

    def log_group(self, name: str) -> LogGroup | None:
        for group in self.log_groups:
            if group.log_group_name == name:
                return group
        return None


def awslogs_group(container: ContainerDefinition, task_region: str) -> tuple[str, str] | None:
    """(log group name, region) of a container using the awslogs driver, else None.

    awslogs-region defaults to the task's region."""
    config = container.log_configuration
    if config is None or config.log_driver != "awslogs":
        return None
    group = (config.options.get("awslogs-group") or "").strip()
    if not group:
        return None
    region = (config.options.get("awslogs-region") or "").strip() or task_region
    return group, region


def creates_group(container: ContainerDefinition) -> bool:
    """awslogs-create-group=true: the agent creates a missing group at task start."""
    config = container.log_configuration
    return bool(config and config.options.get("awslogs-create-group", "").strip().lower() == "true")


def log_group_arn(name: str, partition: str, region: str, account_id: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"
