"""Options that choose accounts, roles and regions are validated before any call."""

from __future__ import annotations

import pytest

from ecs_audit.errors import AuditFailed, UsageError
from ecs_audit.collect.accounts_regions import AccessOptions, Target, first_reachable, parse_account_list
from ecs_audit.inventory.errors import ApiError


@pytest.mark.parametrize(
    "options, fragment",
    [
        (AccessOptions(role_arn="arn:aws:iam::123:role/x"), "--role-arn"),
        (AccessOptions(role_arn="arn:aws:s3:::bucket"), "--role-arn"),
        (AccessOptions(org_role_name="has space"), "--org-role-name"),
        (AccessOptions(org_role_name="Audit", external_id="x"), "--external-id"),
        (AccessOptions(duration=60), "--duration"),
        (AccessOptions(duration=50000), "--duration"),
        (AccessOptions(role_session_name="a b"), "--role-session-name"),
        (AccessOptions(org_role_name="Audit", accounts=frozenset({"12345"})), "--accounts"),
        (AccessOptions(org_role_name="Audit", exclude_accounts=frozenset({"abc"})), "--exclude-accounts"),
        (AccessOptions(accounts=frozenset({"123456789012"})), "--org-role-name"),
        (AccessOptions(regions=("us-east-1",), all_regions=True), "--all-regions"),
    ],
)
def test_bad_access_options_are_one_line_usage_errors(options: AccessOptions, fragment: str):
    with pytest.raises(UsageError) as raised:
        options.validate()
    assert fragment in str(raised.value) and "\n" not in str(raised.value)


def test_good_access_options_pass():
    options = AccessOptions(
        role_arn="arn:aws:iam::123456789012:role/path/Audit",
        external_id="abc-123",
        org_role_name="ECSAuditReadOnly",
        accounts=parse_account_list("111122223333, 444455556666,"),
        duration=43200,
    )
    assert options.validate() is options
    assert options.accounts == {"111122223333", "444455556666"}


def test_first_reachable_is_the_first_target_with_clients():
    clients = object()
    targets = [Target("111122223333", None), Target("444455556666", clients), Target("777788889999", object())]
    assert first_reachable(targets, "unused") is targets[1]


def test_no_reachable_target_fails_naming_the_first_error():
    refused = ApiError(
        account_id="111122223333", region="us-east-1", service="sts", operation="AssumeRole",
        error_code="AccessDenied", message="not authorized",
    )  # fmt: skip
    with pytest.raises(AuditFailed) as raised:
        first_reachable([Target("444455556666", None), Target("111122223333", None, error=refused)], "nothing reached")
    assert str(raised.value) == f"nothing reached ({refused.describe()})"
    with pytest.raises(AuditFailed) as raised:
        first_reachable([], "nothing reached")
    assert str(raised.value) == "nothing reached"
