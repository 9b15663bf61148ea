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


# FireLens outputs that write to CloudWatch Logs (Fluent Bit's cloudwatch_logs and the older
# Go plugin cloudwatch), and their options: https://docs.fluentbit.io/manual/pipeline/outputs/cloudwatch
FIRELENS_CLOUDWATCH_OUTPUTS = ("cloudwatch_logs", "cloudwatch")


def _option(options: dict[str, str], name: str) -> str:
    """A log option by name; FireLens (Fluent Bit) option names are case-insensitive."""
    for key, value in options.items():
        if key.lower() == name.lower():
            return (value or "").strip()
    return ""


def is_firelens_cloudwatch(container: ContainerDefinition) -> bool:
    config = container.log_configuration
    return bool(config and config.log_driver == "awsfirelens" and _option(config.options, "Name").lower() in FIRELENS_CLOUDWATCH_OUTPUTS)


def awslogs_group(container: ContainerDefinition, task_region: str) -> tuple[str, str] | None:
    """(log group name, region) of a container writing to CloudWatch Logs, else None: the awslogs
    driver (awslogs-group, awslogs-region) or a FireLens cloudwatch_logs output (log_group_name,
    region). The region defaults to the task's; a templated group name ($(...)) is not resolved."""
    config = container.log_configuration
    if config is None:
        return None
    if config.log_driver == "awslogs":
        group = (config.options.get("awslogs-group") or "").strip()
        region = (config.options.get("awslogs-region") or "").strip() or task_region
    elif is_firelens_cloudwatch(container):
        group = _option(config.options, "log_group_name")
        region = _option(config.options, "region") or task_region
    else:
        return None
    if not group or "$(" in group or "${" in group:
        return None
    return group, region


def creates_group(container: ContainerDefinition) -> bool:
    """The agent or the FireLens output creates a missing group at task start (awslogs-create-group,
    auto_create_group)."""
    config = container.log_configuration
    if config is None:
        return False
    if config.log_driver == "awslogs":
        return config.options.get("awslogs-create-group", "").strip().lower() == "true"
    if not is_firelens_cloudwatch(container):
        return False
    # Each output parses the flag its own way: Fluent Bit's cloudwatch_logs as a config-map boolean
    # (flb_utils_bool: true, on or yes, any case: fluent/fluent-bit src/flb_utils.c), the older Go
    # plugin `cloudwatch` only "true" (getBoolParam in aws/amazon-cloudwatch-logs-for-fluent-bit,
    # fluent-bit-cloudwatch.go); anything else leaves it at its default, false.
    accepted = ("true", "on", "yes") if _option(config.options, "Name").lower() == "cloudwatch_logs" else ("true",)
    return _option(config.options, "auto_create_group").lower() in accepted


def retention_on_create(container: ContainerDefinition) -> int | None:
    """FireLens log_retention_days: the retention a group gets when the output creates it."""
    config = container.log_configuration
    if config is None or not is_firelens_cloudwatch(container):
        return None
    value = _option(config.options, "log_retention_days")
    return int(value) if value.isdigit() and int(value) > 0 else None


def log_group_arn(name: str, partition: str, region: str, account_id: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"
