"""How container secret references and IAM policy statements are read."""

from __future__ import annotations

import pytest

from ecs_audit.semantics.iam_policy import BroadGrant, admin_actions, broad_grants, secret_reads, service_wildcards
from ecs_audit.semantics.secret_reference import OTHER, SECRETS_MANAGER, SSM, resolve, resolve_secret

ACCT = "123456789012"


@pytest.mark.parametrize(
    ("value_from", "kind", "key", "region"),
    [
        ("/prod/db", SSM, "/prod/db", "us-east-1"),
        ("db", SSM, "db", "us-east-1"),
        (f"arn:aws:ssm:us-east-1:{ACCT}:parameter/prod/db", SSM, "/prod/db", "us-east-1"),
        (f"arn:aws:ssm:eu-west-1:{ACCT}:parameter/db", SSM, "db", "eu-west-1"),
        (f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf", SECRETS_MANAGER, f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf", "us-east-1"),
        (f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf:password:AWSCURRENT:", SECRETS_MANAGER, f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf", "us-east-1"),
        (f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:partial::", SECRETS_MANAGER, f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:partial", "us-east-1"),
        (f"arn:aws:s3:::bucket/key", OTHER, "arn:aws:s3:::bucket/key", ""),
    ],
)
def test_value_from_resolves_as_ecs_reads_it(value_from, kind, key, region):
    ref = resolve(value_from, "secrets", "VAR", "aws", "us-east-1", ACCT)
    assert (ref.kind, ref.key, ref.region) == (kind, key, region)


def test_parameter_arns_are_built_without_doubling_the_slash():
    assert resolve("/prod/db", "secrets", "V", "aws", "us-east-1", ACCT).arn == f"arn:aws:ssm:us-east-1:{ACCT}:parameter/prod/db"
    assert resolve("db", "secrets", "V", "aws", "us-east-1", ACCT).arn == f"arn:aws:ssm:us-east-1:{ACCT}:parameter/db"


def test_repository_credentials_by_name_resolve_to_a_partial_secret_arn():
    ref = resolve_secret("registry", "repositoryCredentials", "aws", "us-east-1", ACCT)
    assert (ref.kind, ref.key) == (SECRETS_MANAGER, f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:registry")


def test_only_allow_statements_on_every_resource_are_broad():
    document = {
        "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"},
            {"Effect": "Allow", "Action": ["ec2:*"], "NotResource": "arn:aws:ec2:*:*:instance/protected"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::1:role/x", "*"]},
        ]
    }
    grants = broad_grants(document, "p")
    assert [g.actions for g in grants] == [("ec2:*",), ("sts:AssumeRole",)]
    assert broad_grants({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}, "p")[0].actions == ("s3:*",)


def test_action_patterns():
    # sts:AssumeRole on every resource lets the role become any role that trusts the account: an escalation.
    assert admin_actions(BroadGrant("p", ("*:*", "Iam:*", "sts:AssumeRole"))) == ["*:*", "Iam:*", "sts:AssumeRole"]
    assert admin_actions(BroadGrant("p", ("iam:*",), not_action=True)) == ["NotAction"]
    assert service_wildcards(BroadGrant("p", ("s3:*", "iam:*", "*", "ec2:Describe*"))) == ["s3:*"]
    assert secret_reads(BroadGrant("p", ("secretsmanager:*", "ssm:GetParameters"))) == ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    assert secret_reads(BroadGrant("p", ("kms:*",), not_action=True)) == [
        "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"
    ]
