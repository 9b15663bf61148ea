"""The policies and role templates we publish grant exactly the allowlist."""

from __future__ import annotations

import json

import yaml

from ecs_audit.policy import POLICY_ACTIONS
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.docs import member_role_cloudformation, member_role_terraform
from ecs_audit.policy import audit_role_policy


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_member_policy_is_the_allowlist():
    statements = audit_role_policy()["Statement"]
    assert len(statements) == 1
    assert set(statements[0]["Action"]) == POLICY_ACTIONS
    assert statements[0]["Effect"] == "Allow"
    # permissions beyond what the tool sends are only the ones AWS checks behind a sent call
    assert POLICY_ACTIONS - ALLOWED_ACTIONS == {"wafv2:GetWebACL"}


def test_org_policy_adds_only_listing_and_assuming_the_member_role():
    statements = audit_role_policy(org=True, role_name="Audit")["Statement"]
    extra = [s for s in statements if s["Sid"] != "EcsAuditReadOnly"]
    assert {a for s in extra for a in s["Action"]} == {"organizations:ListAccounts", "sts:AssumeRole"}
    assume = next(s for s in extra if s["Action"] == ["sts:AssumeRole"])
    assert assume["Resource"] == "arn:aws:iam::*:role/Audit"


def test_cloudformation_template_parses_and_grants_the_allowlist():
    template = yaml.load(member_role_cloudformation(), Loader=_CfnLoader)
    role = template["Resources"]["AuditRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"]["StringEquals"]  # ExternalId required
    actions = role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"]
    assert set(actions) == POLICY_ACTIONS
    assert template["Parameters"]["SecurityAccountId"]["AllowedPattern"] == r"^\d{12}$"


def test_terraform_snippet_lists_every_action():
    text = member_role_terraform()
    for action in POLICY_ACTIONS:
        assert f'"{action}"' in text
    assert "sts:ExternalId" in text


def test_iam_policy_command_prints_json(capsys):
    from ecs_audit.cli import main

    assert main(["iam-policy"]) == 0
    assert json.loads(capsys.readouterr().out) == audit_role_policy()


def test_the_writer_policy_is_separate_and_confined():
    from ecs_audit.policy import audit_role_policy, writer_policy

    policy = writer_policy("reports-bucket", "ecs/audit")
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject"}
    resources = {s["Resource"] for s in policy["Statement"]}
    assert resources == {"arn:aws:s3:::reports-bucket", "arn:aws:s3:::reports-bucket/ecs/audit/*"}
    assert policy["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["ecs/audit", "ecs/audit/*"]}}
    audit_actions = {a for s in audit_role_policy()["Statement"] for a in s["Action"]}
    assert not audit_actions & {"s3:PutObject", "s3:DeleteObject"}
