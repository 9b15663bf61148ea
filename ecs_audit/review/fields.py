"""Which field of a definition a check's verdict rests on (API camelCase key paths, relative to the
container for container checks, else to the task definition or service), most specific first. A
finding points at the first that is in the file, else at its container or resource."""

from __future__ import annotations

FIELDS: dict[str, list[tuple[str, ...]]] = {
    "TASKDEF-001": [("cpu",), ("memory",)],
    "TASKDEF-002": [("cpu",), ("memory",), ("memoryReservation",)],
    "TASKDEF-003": [("memory",), ("cpu",)],
    "TASKDEF-004": [("healthCheck",), ("essential",)],
    "TASKDEF-005": [("healthCheck", "timeout"), ("healthCheck", "interval"), ("healthCheck",)],
    "TASKDEF-006": [("networkMode",)],
    "IMAGE-001": [("image",)],
    "IMAGE-005": [("image",)],
    "IMAGE-006": [("image",)],
    "IMAGE-007": [("image",)],
    "SECURITY-001": [("readonlyRootFilesystem",)],
    "SECURITY-002": [("privileged",)],
    "SECURITY-003": [("user",)],
    "SECURITY-004": [("linuxParameters", "capabilities", "add"), ("linuxParameters",)],
    "SECURITY-005": [("pidMode",), ("ipcMode",)],
    "SECURITY-006": [("environment",)],
    "SECURITY-007": [("secrets",)],
    "SECURITY-008": [("taskRoleArn",), ("executionRoleArn",)],
    "SECURITY-009": [("taskRoleArn",)],
    "SECURITY-010": [("executionRoleArn",)],
    "SECURITY-015": [("volumes",)],
    "SECURITY-016": [("enableExecuteCommand",)],
    "SECURITY-018": [("dockerSecurityOptions",)],
    "NETWORK-001": [("networkConfiguration", "awsvpcConfiguration", "assignPublicIp"), ("networkConfiguration",)],
    "NETWORK-002": [("networkConfiguration", "awsvpcConfiguration", "subnets"), ("networkConfiguration",)],
    "NETWORK-003": [("networkConfiguration", "awsvpcConfiguration", "securityGroups"), ("networkConfiguration",)],
    "NETWORK-009": [("proxyConfiguration",)],
    "STORAGE-001": [("volumes",)],
    "STORAGE-002": [("volumes",)],
    "STORAGE-003": [("volumes",)],
    "OBSERVABILITY-003": [("logConfiguration",)],
    "OBSERVABILITY-004": [("logConfiguration", "options"), ("logConfiguration",)],
    "OBSERVABILITY-007": [("logConfiguration", "options"), ("logConfiguration",)],
    "CICD-001": [("deploymentConfiguration", "deploymentCircuitBreaker"), ("deploymentConfiguration",)],
    "CICD-004": [("deploymentController",), ("loadBalancers",)],
    "CICD-005": [("deploymentConfiguration", "minimumHealthyPercent"), ("deploymentConfiguration",)],
    "RESILIENCE-001": [("networkConfiguration", "awsvpcConfiguration", "subnets")],
    "RESILIENCE-002": [("desiredCount",)],
    "RESILIENCE-006": [("healthCheckGracePeriodSeconds",), ("loadBalancers",)],
    "TAGGING-001": [("enableECSManagedTags",), ("propagateTags",)],
    "TAGGING-002": [("tags",)],
    "TAGGING-003": [("tags",)],
}


def field_paths(check_id: str, container: bool) -> list[tuple[str, ...]]:
    return FIELDS.get(check_id, [])
