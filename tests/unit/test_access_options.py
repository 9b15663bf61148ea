"""Options that choose accounts, roles and regions are validated before any call."""

from __future__ import annotations

import pytest

from ecs_audit.errors import UsageError
from ecs_audit.collect.accounts_regions import AccessOptions, parse_account_list


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
