"""ecs-audit: a read-only auditor for Amazon ECS estates."""

__version__ = "0.1.0"
