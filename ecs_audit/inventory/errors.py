"""API errors, recorded in the snapshot instead of being swallowed."""

from __future__ import annotations

from ecs_audit.inventory.base import Record
from ecs_audit.inventory.parts import iam_prefix

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "Forbidden",
        "403",
    }
)

# A call left out on purpose (no selected check needed it): recorded in RegionInventory.not_collected.
NOT_COLLECTED = "NotCollected"
NOT_SELECTED = "not selected"


def iam_action(service: str, operation: str) -> str:
    """The IAM action for a boto3 client name and API operation, e.g. elbv2/DescribeListeners."""
    return f"{iam_prefix(service)}:{operation}"


class ApiError(Record):
    """One failed call. `resources` names what the call was about (ARNs or ids); empty means the
    call covered the whole account and region."""

    account_id: str
    region: str
    service: str
    operation: str
    error_code: str
    message: str
    resources: list[str] = []
    # What the call was for when it was not about enumerating or describing the audited resources
    # themselves (e.g. "history" for older task definition revisions). Such a failure only affects
    # checks that declare the call in their `needs`.
    context: str | None = None

    @property
    def action(self) -> str:
        return iam_action(self.service, self.operation)

    @property
    def is_access_denied(self) -> bool:
        return self.error_code in ACCESS_DENIED_CODES

    def describe(self) -> str:
        """One line for a report: which call failed and why, with the missing permission if denied."""
        what = f"{self.action} failed ({self.error_code})"
        if self.error_code == NOT_COLLECTED and self.context is not None:
            what = f"{self.action} was not called"
        if self.is_access_denied:
            what = f"{self.action} was denied ({self.error_code}): grant {self.action} to the audit role"
        message = " ".join(self.message.split())
        return f"{what}: {message}" if message else what
