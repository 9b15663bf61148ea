"""IAM actions and resources are wildcard patterns (SECURITY-009/010)."""

from __future__ import annotations

import pytest

from ecs_audit.semantics.iam_policy import BroadGrant, admin_actions, allows_action, broad_grants, covers_service, escalation_combinations, resource_is_broad


@pytest.mark.parametrize(
    ("pattern", "broad"),
    [
        ("*", True),
        ("arn:aws:iam::*:role/*", True),
        ("arn:aws:iam::123456789012:role/*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws:iam::123456789012:role/app-task", False),
        ("arn:aws:s3:::uploads/*", False),
        ("arn:aws:iam::123456789012:role/service-role/*", False),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:*", True),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/*", False),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf", False),
    ],
)
def test_resource_patterns(pattern, broad):
    assert resource_is_broad(pattern) is broad


def test_actions_match_case_insensitively_with_wildcards():
    assert allows_action(["IAM:Put*"], "iam:PutRolePolicy")
    assert allows_action(["iam:?assRole"], "iam:PassRole")
    assert not allows_action(["iam:Get*"], "iam:PutRolePolicy")
    assert allows_action(["iam:*"], "iam:PutRolePolicy", not_action=False)
    assert not allows_action(["iam:*"], "iam:PutRolePolicy", not_action=True)


def test_service_coverage():
    assert covers_service("i*:*", "iam") and covers_service("*", "sts") and covers_service("IAM:*", "iam")
    assert not covers_service("iam:Get*", "iam")


def test_admin_actions_name_the_escalation_a_pattern_grants():
    grant = BroadGrant("inline policy p", ("s3:GetObject", "iam:Attach*"))
    assert admin_actions(grant) == ["iam:Attach* (iam:AttachRolePolicy, iam:AttachUserPolicy, iam:AttachGroupPolicy)"]


def test_pass_role_is_an_escalation_only_with_role_creation():
    doc = {"Statement": [{"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}]}
    assert escalation_combinations(broad_grants(doc, "a")) == []
    doc2 = {"Statement": [{"Effect": "Allow", "Action": "iam:Create*", "Resource": "arn:aws:iam::123456789012:role/*"}]}
    assert escalation_combinations(broad_grants(doc, "a") + broad_grants(doc2, "b")) == [
        "iam:PassRole (a) with iam:CreateRole (b) on every resource"
    ]


def test_pass_role_escalates_with_a_service_that_runs_code_under_the_passed_role():
    passing = broad_grants({"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}, "a")
    ecs = broad_grants({"Statement": [{"Effect": "Allow", "Action": ["ecs:RegisterTaskDefinition", "ecs:RunTask"], "Resource": "*"}]}, "b")
    assert escalation_combinations(passing + ecs) == [
        "iam:PassRole (a) with ecs:RegisterTaskDefinition (b) and ecs:RunTask (b) on every resource"
    ]
    # Both Lambda actions are needed: creating a function alone does not run it.
    create_only = broad_grants({"Statement": [{"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"}]}, "c")
    assert escalation_combinations(passing + create_only) == []
    ec2 = broad_grants({"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}, "d")
    assert escalation_combinations(passing + ec2) == ["iam:PassRole (a) with ec2:RunInstances (d) on every resource"]


def test_an_admin_grant_is_not_repeated_as_combinations():
    admin = broad_grants({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "a")
    assert escalation_combinations(admin) == []


def test_pass_role_limited_by_passed_to_service_escalates_only_through_that_service():
    doc = {
        "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
            {"Effect": "Allow", "Action": ["ec2:RunInstances", "lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"},
        ]
    }
    assert escalation_combinations(broad_grants(doc, "a")) == []
    doc["Statement"][1]["Action"] = ["ecs:RegisterTaskDefinition", "ecs:RunTask"]
    assert escalation_combinations(broad_grants(doc, "a")) == [
        "iam:PassRole (a) with ecs:RegisterTaskDefinition (a) and ecs:RunTask (a) on every resource"
    ]


def test_a_role_that_may_rewrite_its_own_policies_escalates():
    from ecs_audit.semantics.iam_policy import self_escalations

    arn = "arn:aws:iam::123456789012:role/app-task"
    doc = {"Statement": [{"Effect": "Allow", "Action": ["iam:PutRolePolicy", "iam:GetRole"], "Resource": "arn:aws:iam::123456789012:role/app-*"}]}
    assert self_escalations(doc, "inline policy p", arn) == [
        "inline policy p allows iam:PutRolePolicy on the role itself (arn:aws:iam::123456789012:role/app-*)"
    ]
    other = {"Statement": [{"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "arn:aws:iam::123456789012:role/worker-*"}]}
    assert self_escalations(other, "p", arn) == []
    reads = {"Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": arn}]}
    assert self_escalations(reads, "p", arn) == []
