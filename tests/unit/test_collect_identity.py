"""The IAM, SSM, Secrets Manager and CloudWatch Logs collectors against a fake API that enforces the
documented batch limits and paginates (returning short pages, as these APIs may)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ecs_audit.collect import iam as iam_collector
from ecs_audit.collect import logs as logs_collector
from ecs_audit.collect import secretsmanager as secrets_collector
from ecs_audit.collect import ssm as ssm_collector
from ecs_audit.collect.base import CollectContext
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.config import AuditConfig
from ecs_audit.inventory.iam import parse_policy_document
from ecs_audit.inventory.snapshot import RegionInventory
from ecs_audit.session import ClientFactory
from tests.support.estate import build_ecs
from tests.support.fake_api import ApiFault, FakeApi

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def _region(task_definitions: list[dict[str, Any]], region: str = REGION) -> RegionInventory:
    return RegionInventory(account_id=ACCOUNT, region=region, ecs=build_ecs({"task_definitions": task_definitions}))


def _context(api: FakeApi, region: str = REGION) -> CollectContext:
    return CollectContext(ClientFactory(api.session(region), ALLOWED_ACTIONS), ACCOUNT, region, max_workers=8)


def _container(name: str = "web", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "app:1", **fields}


# --- IAM ---------------------------------------------------------------------------------------


class FakeIam:
    """Roles with attached and inline policies; list calls return at most two items a page."""

    def __init__(self) -> None:
        self.roles: dict[str, dict[str, Any]] = {}
        self.denied: set[tuple[str, str]] = set()
        self.policies = {
            ADMIN: {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
            EXEC_POLICY: {"Statement": [{"Effect": "Allow", "Action": ["ecr:BatchGetImage", "logs:PutLogEvents"], "Resource": "*"}]},
            f"arn:aws:iam::{ACCOUNT}:policy/shared": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]},
        }

    def add_role(self, name: str, attached: list[str], inline: dict[str, Any], path: str = "/") -> None:
        self.roles[name] = {"path": path, "attached": attached, "inline": inline}

    def install(self, api: FakeApi) -> None:
        api.on("iam.GetRole", self.get_role)
        api.on("iam.ListAttachedRolePolicies", self.list_attached)
        api.on("iam.ListRolePolicies", self.list_inline)
        api.on("iam.GetRolePolicy", self.get_role_policy)
        api.on("iam.GetPolicy", self.get_policy)
        api.on("iam.GetPolicyVersion", self.get_policy_version)

    def _role(self, p: dict[str, Any]) -> dict[str, Any]:
        if p["RoleName"] not in self.roles:
            raise ApiFault("NoSuchEntity", f"The role with name {p['RoleName']} cannot be found.", 404)
        return self.roles[p["RoleName"]]

    @staticmethod
    def _page(items: list[Any], p: dict[str, Any], key: str) -> dict[str, Any]:
        assert 1 <= p.get("MaxItems", 100) <= 1000
        start = int(p.get("Marker", "0"))
        chunk = items[start : start + 2]  # IAM may return fewer than MaxItems
        out: dict[str, Any] = {key: chunk, "IsTruncated": start + 2 < len(items)}
        if out["IsTruncated"]:
            out["Marker"] = str(start + 2)
        return out

    def get_role(self, p: dict[str, Any]) -> dict[str, Any]:
        role = self._role(p)
        arn = f"{ROLE}{role['path'].strip('/') + '/' if role['path'] != '/' else ''}{p['RoleName']}"
        return {"Role": {"RoleName": p["RoleName"], "Arn": arn, "Path": role["path"], "RoleId": "AROA" + "X" * 17,
                         "CreateDate": "2024-01-01T00:00:00Z", "AssumeRolePolicyDocument": "%7B%7D"}}

    def list_attached(self, p: dict[str, Any]) -> dict[str, Any]:
        items = [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in self._role(p)["attached"]]
        return self._page(items, p, "AttachedPolicies")

    def list_inline(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._page(sorted(self._role(p)["inline"]), p, "PolicyNames")

    def get_role_policy(self, p: dict[str, Any]) -> dict[str, Any]:
        if ("GetRolePolicy", p["RoleName"]) in self.denied:
            raise ApiFault("AccessDenied", "not authorized to perform iam:GetRolePolicy", 403)
        document = self._role(p)["inline"][p["PolicyName"]]
        # The wire format: URL-encoded JSON.
        return {"RoleName": p["RoleName"], "PolicyName": p["PolicyName"], "PolicyDocument": quote(json.dumps(document))}

    def get_policy(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p["PolicyArn"]
        return {"Policy": {"PolicyName": arn.rsplit("/", 1)[1], "Arn": arn, "DefaultVersionId": "v7", "AttachmentCount": 3}}

    def get_policy_version(self, p: dict[str, Any]) -> dict[str, Any]:
        assert p["VersionId"] == "v7", "the default version must be read"
        return {"PolicyVersion": {"Document": quote(json.dumps(self.policies[p["PolicyArn"]])), "VersionId": "v7", "IsDefaultVersion": True}}


def _iam_estate() -> tuple[FakeIam, list[RegionInventory]]:
    fake = FakeIam()
    fake.add_role("app-task", [f"arn:aws:iam::{ACCOUNT}:policy/shared"], {"a": {"Statement": []}, "b": {"Statement": []}, "c": {"Statement": []}})
    fake.add_role("admin-task", [ADMIN, f"arn:aws:iam::{ACCOUNT}:policy/shared"], {})
    fake.add_role("ecsTaskExecutionRole", [EXEC_POLICY, f"arn:aws:iam::{ACCOUNT}:policy/shared", ADMIN], {"secrets": {"Statement": []}}, path="/service-role/")
    east = [
        {"family": f"app{i}", "taskRoleArn": f"{ROLE}app-task", "executionRoleArn": f"{ROLE}service-role/ecsTaskExecutionRole",
         "containerDefinitions": [_container()]}
        for i in range(10)
    ]
    east.append({"family": "byname", "taskRoleArn": "app-task", "executionRoleArn": f"{ROLE}deleted", "containerDefinitions": [_container()]})
    west = [
        {"family": "admin", "taskRoleArn": f"{ROLE}admin-task", "executionRoleArn": f"{ROLE}service-role/ecsTaskExecutionRole",
         "containerDefinitions": [_container()]},
        {"family": "foreign", "taskRoleArn": "arn:aws:iam::999999999999:role/theirs", "containerDefinitions": [_container()]},
    ]
    return fake, [_region(east), _region(west, "eu-west-1")]


def test_iam_reads_each_role_and_each_shared_policy_once():
    fake, regions = _iam_estate()
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    inventory = iam_collector.collect(ctx, AuditConfig(), regions)

    assert ctx.errors == []
    # app-task, admin-task, ecsTaskExecutionRole and the deleted role; the other account's role is not read
    assert api.calls["iam.GetRole"] == 4
    assert sorted(p["RoleName"] for k, p in api.requests if k == "iam.GetRole") == ["admin-task", "app-task", "deleted", "ecsTaskExecutionRole"]
    # three distinct managed policies, however many roles attach them
    assert api.calls["iam.GetPolicy"] == 3
    assert api.calls["iam.GetPolicyVersion"] == 3
    # pages of two: ecsTaskExecutionRole's three attached policies take two pages, app-task's three inline names two
    assert api.calls["iam.ListAttachedRolePolicies"] == 4
    assert api.calls["iam.ListRolePolicies"] == 4
    assert api.calls["iam.GetRolePolicy"] == 4
    assert inventory.missing_roles == [f"{ROLE}deleted"]
    assert inventory.not_read == ["arn:aws:iam::999999999999:role/theirs"]
    execution = inventory.role(f"{ROLE}service-role/ecsTaskExecutionRole")
    assert [a.policy_arn for a in execution.attached_policies] == [EXEC_POLICY, f"arn:aws:iam::{ACCOUNT}:policy/shared", ADMIN]
    assert execution.inline_policies[0].document == {"Statement": []}
    assert inventory.policy(ADMIN).document == {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def test_a_missing_role_costs_one_call_and_is_not_an_error():
    fake = FakeIam()
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    regions = [_region([{"family": "app", "taskRoleArn": f"{ROLE}gone", "containerDefinitions": [_container()]}])]
    inventory = iam_collector.collect(ctx, AuditConfig(), regions)
    assert inventory.missing_roles == [f"{ROLE}gone"]
    assert inventory.roles == []
    assert sum(api.calls.values()) == 1
    assert ctx.errors == []


def test_a_denied_inline_policy_is_recorded_against_the_role():
    fake, regions = _iam_estate()
    fake.denied.add(("GetRolePolicy", "app-task"))
    api = FakeApi()
    fake.install(api)
    ctx = _context(api)
    inventory = iam_collector.collect(ctx, AuditConfig(), regions)
    assert {(e.action, e.error_code, tuple(e.resources)) for e in ctx.errors} == {
        ("iam:GetRolePolicy", "AccessDenied", (f"{ROLE}app-task",))
    }
    assert [p.document for p in inventory.role(f"{ROLE}app-task").inline_policies] == [None, None, None]


def test_a_failed_shared_policy_is_recorded_against_every_role_that_attaches_it():
    fake, regions = _iam_estate()
    api = FakeApi()
    fake.install(api)

    def denied(p: dict[str, Any]) -> dict[str, Any]:
        if p["PolicyArn"] == ADMIN:
            raise ApiFault("AccessDenied", "not authorized to perform iam:GetPolicy", 403)
        return fake.get_policy(p)

    api.on("iam.GetPolicy", denied)
    ctx = _context(api)
    inventory = iam_collector.collect(ctx, AuditConfig(), regions)
    [error] = ctx.errors
    assert error.action == "iam:GetPolicy"
    assert error.resources == sorted([ADMIN, f"{ROLE}admin-task", f"{ROLE}service-role/ecsTaskExecutionRole"])
    assert inventory.policy(ADMIN) is None
    assert api.calls["iam.GetPolicyVersion"] == 2


def test_policy_documents_parse_from_dicts_json_and_url_encoded_json():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert parse_policy_document(document) == document
    assert parse_policy_document(json.dumps(document)) == document
    assert parse_policy_document(quote(json.dumps(document))) == document


# --- SSM -----------------------------------------------------------------------------------------


def test_ssm_describes_referenced_parameters_50_names_a_call_and_never_reads_values():
    names = [f"/app/p{i:03d}" for i in range(120)]
    containers = [
        _container(f"c{i}", secrets=[{"name": f"V{i}", "valueFrom": n if i % 2 else f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{n}"}])
        for i, n in enumerate(names)
    ]
    containers.append(_container("dup", secrets=[{"name": "A", "valueFrom": names[0]}]))
    containers.append(_container("remote", secrets=[{"name": "B", "valueFrom": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/elsewhere"}]))
    containers.append(_container("sm", secrets=[{"name": "C", "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-AbCdEf"}]))
    containers.append(
        _container("log", logConfiguration={"logDriver": "splunk", "secretOptions": [{"name": "splunk-token", "valueFrom": "plain-token"}]})
    )
    existing = set(names[:100]) | {"plain-token"}

    def describe(p: dict[str, Any]) -> dict[str, Any]:
        [f] = p["ParameterFilters"]
        assert f["Key"] == "Name" and f["Option"] == "Equals" and 1 <= len(f["Values"]) <= 50
        assert 1 <= p.get("MaxResults", 50) <= 50
        matches = [{"Name": n, "Type": "SecureString" if n != "plain-token" else "String", "ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{n.lstrip('/')}"}
                   for n in f["Values"] if n in existing]
        start = int(p.get("NextToken", "0"))
        out: dict[str, Any] = {"Parameters": matches[start : start + 20]}  # short pages
        if start + 20 < len(matches):
            out["NextToken"] = str(start + 20)
        return out

    api = FakeApi()
    api.on("ssm.DescribeParameters", describe)
    ctx = _context(api)
    inventory = ssm_collector.collect(ctx, AuditConfig(), _region([{"family": "app", "containerDefinitions": containers}]))

    batches = [p["ParameterFilters"][0]["Values"] for k, p in api.requests if k == "ssm.DescribeParameters" and "NextToken" not in p]
    assert sorted(len(b) for b in batches) == [21, 50, 50]  # 121 distinct local names (batches run concurrently)
    assert sum(len(b) for b in batches) == len({v for b in batches for v in b})
    assert "/elsewhere" not in {v for b in batches for v in b}
    assert len(inventory.parameters) == 101
    assert inventory.missing == names[100:]
    assert inventory.parameter("plain-token").type == "String"
    assert set(api.calls) == {"ssm.DescribeParameters"}
    assert ctx.errors == []


def test_a_failed_parameter_batch_is_recorded_against_its_parameters_and_not_reported_missing():
    api = FakeApi()
    api.on("ssm.DescribeParameters", lambda p: (_ for _ in ()).throw(ApiFault("AccessDeniedException", "denied", 400)))
    ctx = _context(api)
    containers = [_container(secrets=[{"name": "A", "valueFrom": "/app/a"}, {"name": "B", "valueFrom": "b"}])]
    inventory = ssm_collector.collect(ctx, AuditConfig(), _region([{"family": "app", "containerDefinitions": containers}]))
    assert inventory.missing == []
    [error] = ctx.errors
    assert error.action == "ssm:DescribeParameters"
    assert error.resources == [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/a", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/b"]


# --- Secrets Manager -------------------------------------------------------------------------------


def test_secrets_are_described_once_each_with_json_key_suffixes_stripped():
    prefix = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
    containers = [
        _container("a", secrets=[{"name": "U", "valueFrom": f"{prefix}db-AbCdEf:username::"},
                                 {"name": "P", "valueFrom": f"{prefix}db-AbCdEf:password:AWSCURRENT:"}]),
        _container("b", secrets=[{"name": "P", "valueFrom": f"{prefix}db-AbCdEf"}, {"name": "K", "valueFrom": f"{prefix}partial"}]),
        _container("c", secrets=[{"name": "G", "valueFrom": f"{prefix}gone-123456"}, {"name": "D", "valueFrom": f"{prefix}denied-123456"}]),
        _container("d", repositoryCredentials={"credentialsParameter": "registry-creds"}),
        _container("e", secrets=[{"name": "R", "valueFrom": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:remote-123456"}]),
    ]

    def describe(p: dict[str, Any]) -> dict[str, Any]:
        secret_id = p["SecretId"]
        if "gone" in secret_id:
            raise ApiFault("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
        if "denied" in secret_id:
            raise ApiFault("AccessDeniedException", "not authorized to perform secretsmanager:DescribeSecret")
        full = secret_id if secret_id[-7] == "-" else secret_id + "-XyZ123"
        return {"ARN": full, "Name": full.split(":secret:", 1)[1][:-7], "KmsKeyId": "alias/app", "RotationEnabled": False}

    api = FakeApi()
    api.on("secretsmanager.DescribeSecret", describe)
    ctx = _context(api)
    inventory = secrets_collector.collect(ctx, AuditConfig(), _region([{"family": "app", "containerDefinitions": containers}]))

    asked = sorted(p["SecretId"] for k, p in api.requests if k == "secretsmanager.DescribeSecret")
    assert asked == sorted(
        [f"{prefix}db-AbCdEf", f"{prefix}partial", f"{prefix}gone-123456", f"{prefix}denied-123456", f"{prefix}registry-creds"]
    )
    assert set(inventory.secrets) == {f"{prefix}db-AbCdEf", f"{prefix}partial", f"{prefix}registry-creds"}
    assert inventory.secrets[f"{prefix}partial"].arn == f"{prefix}partial-XyZ123"
    assert inventory.missing == [f"{prefix}gone-123456"]
    [error] = ctx.errors
    assert (error.action, error.resources) == ("secretsmanager:DescribeSecret", [f"{prefix}denied-123456"])
    assert set(api.calls) == {"secretsmanager.DescribeSecret"}


# --- CloudWatch Logs -------------------------------------------------------------------------------


def test_log_groups_are_described_50_identifiers_a_call():
    groups = [f"/ecs/g{i:02d}" for i in range(60)]
    containers = [
        _container(f"c{i}", logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": g, "awslogs-region": REGION}})
        for i, g in enumerate(groups)
    ]
    containers.append(_container("dup", logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": groups[0]}}))
    containers.append(_container("remote", logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/x", "awslogs-region": "eu-west-1"}}))
    containers.append(_container("fluent", logConfiguration={"logDriver": "awsfirelens", "options": {"Name": "cloudwatch"}}))
    existing = {g: (30 if i % 2 else None) for i, g in enumerate(groups[:55])}

    def describe(p: dict[str, Any]) -> dict[str, Any]:
        ids = p["logGroupIdentifiers"]
        assert 1 <= len(ids) <= 50 and 1 <= p.get("limit", 50) <= 50
        assert "logGroupNamePrefix" not in p
        found = [{"logGroupName": g, "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{g}:*",
                  **({"retentionInDays": existing[g]} if existing[g] else {})} for g in ids if g in existing]
        return {"logGroups": found}

    api = FakeApi()
    api.on("logs.DescribeLogGroups", describe)
    ctx = _context(api)
    inventory = logs_collector.collect(ctx, AuditConfig(), _region([{"family": "app", "containerDefinitions": containers}]))
    assert api.calls["logs.DescribeLogGroups"] == 2
    assert len(inventory.log_groups) == 55
    assert inventory.missing == groups[55:]
    assert inventory.log_group(groups[1]).retention_in_days == 30
    assert inventory.log_group(groups[0]).retention_in_days is None
    assert ctx.errors == []


def test_a_failed_log_group_batch_is_recorded_against_its_groups():
    api = FakeApi()
    api.on("logs.DescribeLogGroups", lambda p: (_ for _ in ()).throw(ApiFault("AccessDeniedException", "denied")))
    ctx = _context(api)
    containers = [_container(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}})]
    inventory = logs_collector.collect(ctx, AuditConfig(), _region([{"family": "app", "containerDefinitions": containers}]))
    assert inventory.missing == []
    [error] = ctx.errors
    assert error.resources == [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/web"]


def test_nothing_referenced_means_no_calls():
    api = FakeApi()
    ctx = _context(api)
    region = _region([{"family": "app", "containerDefinitions": [_container()]}])
    assert ssm_collector.collect(ctx, AuditConfig(), region).parameters == []
    assert secrets_collector.collect(ctx, AuditConfig(), region).secrets == {}
    assert logs_collector.collect(ctx, AuditConfig(), region).log_groups == []
    assert iam_collector.collect(ctx, AuditConfig(), [region]).roles == []
    assert sum(api.calls.values()) == 0


def test_a_malformed_parameter_or_log_group_is_recorded_against_its_batch_and_not_reported_missing():
    api = FakeApi()
    api.on("ssm.DescribeParameters", lambda p: {"Parameters": [{"Type": "String"}]})
    api.on("logs.DescribeLogGroups", lambda p: {"logGroups": [{"retentionInDays": 7}]})
    ctx = _context(api)
    containers = [_container(secrets=[{"name": "A", "valueFrom": "/app/a"}],
                             logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}})]
    region = _region([{"family": "app", "containerDefinitions": containers}])
    parameters = ssm_collector.collect(ctx, AuditConfig(), region)
    groups = logs_collector.collect(ctx, AuditConfig(), region)
    assert (parameters.parameters, parameters.missing, groups.log_groups, groups.missing) == ([], [], [], [])
    assert [(e.action, e.error_code, e.resources) for e in ctx.errors] == [
        ("ssm:DescribeParameters", "MalformedResponse", [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/a"]),
        ("logs:DescribeLogGroups", "MalformedResponse", [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/web"]),
    ]
