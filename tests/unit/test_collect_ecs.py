"""The ECS collector against a fake API that enforces AWS pagination and batch limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.loaders
import pytest

from ecs_audit.collect.base import CollectContext
from ecs_audit.collect.ecs import collect_ecs
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.config import AuditConfig
from ecs_audit.session import ClientFactory
from tests.support.fake_api import ApiFault, FakeApi, page

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:ecs:us-east-1:{ACCOUNT}:"


def _td_arn(family: str, revision: int) -> str:
    return f"{PREFIX}task-definition/{family}:{revision}"


class FakeEcs:
    """Clusters with services; each service runs family svc-<n>:2 (revision 1 is older)."""

    def __init__(self, services_per_cluster: list[int], tasks_per_cluster: int = 0):
        self.clusters = [f"{PREFIX}cluster/c{i}" for i in range(len(services_per_cluster))]
        self.services: dict[str, list[str]] = {}
        n = 0
        for cluster, count in zip(self.clusters, services_per_cluster):
            name = cluster.rsplit("/", 1)[1]
            self.services[cluster] = [f"{PREFIX}service/{name}/s{n + i}" for i in range(count)]
            n += count
        self.tasks = {c: [f"{PREFIX}task/{c.rsplit('/', 1)[1]}/{i:032x}" for i in range(tasks_per_cluster)] for c in self.clusters}
        self.denied: set[tuple[str, str]] = set()
        self.extra_revisions: dict[str, int] = {}  # family -> its number of ACTIVE revisions (default 2)
        self.deployed: dict[str, int] = {}  # family -> the revision its services run (default 2)
        self.unreadable: set[int] = set()  # revisions whose DescribeTaskDefinition fails

    def family_of(self, service_arn: str) -> str:
        return "svc-" + service_arn.rsplit("/s", 1)[1]

    def install(self, api: FakeApi) -> None:
        api.on("ecs.ListClusters", lambda p: page(self.clusters, p, "clusterArns", 100, 100))
        api.on("ecs.DescribeClusters", self.describe_clusters)
        api.on("ecs.ListServices", self.list_services)
        api.on("ecs.DescribeServices", self.describe_services)
        api.on("ecs.ListTasks", self.list_tasks)
        api.on("ecs.DescribeTasks", self.describe_tasks)
        api.on("ecs.ListTaskDefinitionFamilies", lambda p: page(self.all_families(), p, "families", 100, 100))
        api.on("ecs.ListTaskDefinitions", self.list_task_definitions)
        api.on("ecs.DescribeTaskDefinition", self.describe_task_definition)
        api.on("ecs.ListAccountSettings", lambda p: page([{"name": "awsvpcTrunking", "value": "enabled"}], p, "settings", 10, 10))

    def _deny(self, operation: str, target: str) -> None:
        if (operation, target) in self.denied:
            raise ApiFault("AccessDeniedException", f"not authorized to perform ecs:{operation}")

    def describe_clusters(self, p: dict[str, Any]) -> dict[str, Any]:
        assert len(p["clusters"]) <= 100
        assert set(p["include"]) == {"SETTINGS", "CONFIGURATIONS", "TAGS", "STATISTICS"}
        return {"clusters": [{"clusterArn": a, "clusterName": a.rsplit("/", 1)[1], "status": "ACTIVE"} for a in p["clusters"]], "failures": []}

    def list_services(self, p: dict[str, Any]) -> dict[str, Any]:
        self._deny("ListServices", p["cluster"])
        return page(self.services[p["cluster"]], p, "serviceArns", 10, 100)

    def describe_services(self, p: dict[str, Any]) -> dict[str, Any]:
        if len(p["services"]) > 10:
            raise ApiFault("InvalidParameterException", "services can have at most 10 items")
        assert p["include"] == ["TAGS"]
        return {
            "services": [
                {
                    "serviceArn": arn,
                    "serviceName": arn.rsplit("/", 1)[1],
                    "clusterArn": p["cluster"],
                    "status": "ACTIVE",
                    "taskDefinition": _td_arn(self.family_of(arn), self.deployed.get(self.family_of(arn), 2)),
                    "deployments": [
                        {"status": "PRIMARY", "taskDefinition": _td_arn(self.family_of(arn), self.deployed.get(self.family_of(arn), 2))}
                    ],
                }
                for arn in p["services"]
            ],
            "failures": [],
        }

    def list_tasks(self, p: dict[str, Any]) -> dict[str, Any]:
        self._deny("ListTasks", p["cluster"])
        return page(self.tasks[p["cluster"]], p, "taskArns", 100, 100)

    def describe_tasks(self, p: dict[str, Any]) -> dict[str, Any]:
        assert len(p["tasks"]) <= 100
        return {
            "tasks": [
                {"taskArn": t, "clusterArn": p["cluster"], "taskDefinitionArn": _td_arn("standalone", 1), "lastStatus": "RUNNING"}
                for t in p["tasks"]
            ],
            "failures": [],
        }

    def revisions(self, family: str, status: str) -> list[int]:
        if status == "ACTIVE":
            return list(range(1, self.extra_revisions.get(family, 2) + 1))
        return []

    def all_families(self) -> list[str]:
        services = [self.family_of(a) for arns in self.services.values() for a in arns]
        return sorted({*services, "standalone", "orphan", *self.extra_revisions})

    def list_task_definitions(self, p: dict[str, Any]) -> dict[str, Any]:
        self._deny("ListTaskDefinitions", p.get("familyPrefix", "*"))
        families = [p["familyPrefix"]] if "familyPrefix" in p else self.all_families()
        arns = [_td_arn(f, r) for f in families for r in self.revisions(f, p["status"])]
        return page(arns, p, "taskDefinitionArns", 100, 100)

    def describe_task_definition(self, p: dict[str, Any]) -> dict[str, Any]:
        ref = p["taskDefinition"].rsplit("/", 1)[-1]
        family, _, revision = ref.partition(":")
        revision = int(revision or 2)
        if revision in self.unreadable:
            raise ApiFault("ServerException", "internal error")
        return {
            "taskDefinition": {
                "taskDefinitionArn": _td_arn(family, revision),
                "family": family,
                "revision": revision,
                "status": "ACTIVE",
                "containerDefinitions": [
                    {"name": "app", "image": "app:1", "environment": [{"name": "DB_PASSWORD", "value": "hunter2-secret"}]}
                ],
            },
            "tags": [{"key": "Environment", "value": "test"}],
        }


def _collect(fake: FakeEcs, **config: Any):
    api = FakeApi()
    fake.install(api)
    clients = ClientFactory(api.session(), ALLOWED_ACTIONS)
    ctx = CollectContext(clients, ACCOUNT, "us-east-1", max_workers=8)
    inventory = collect_ecs(ctx, AuditConfig(**config))
    return api, ctx, inventory


def test_250_services_in_clusters_of_100_100_50_take_exactly_25_describe_calls():
    api, ctx, inventory = _collect(FakeEcs([100, 100, 50]))
    assert api.calls["ecs.DescribeServices"] == 25
    assert api.calls["ecs.ListServices"] == 3  # 100 a page
    assert len(inventory.services) == 250
    assert ctx.errors == []


def test_more_than_100_clusters_are_paginated_and_described_in_batches_of_100():
    api, ctx, inventory = _collect(FakeEcs([0] * 250))
    assert api.calls["ecs.ListClusters"] == 3
    assert api.calls["ecs.DescribeClusters"] == 3
    assert len(inventory.clusters) == 250


def test_running_tasks_are_described_100_at_a_time():
    api, ctx, inventory = _collect(FakeEcs([1], tasks_per_cluster=250))
    assert api.calls["ecs.ListTasks"] == 3
    assert api.calls["ecs.DescribeTasks"] == 3
    assert len(inventory.tasks) == 250


def test_each_task_definition_is_described_once_and_old_revisions_are_read_for_history():
    api, ctx, inventory = _collect(FakeEcs([3, 2], tasks_per_cluster=4))
    described = [p["taskDefinition"] for key, p in api.requests if key == "ecs.DescribeTaskDefinition"]
    assert len(described) == len(set(described))
    in_use = {td.task_definition_arn for td in inventory.task_definitions}
    # five service families at :2, the standalone task's family, plus the orphan family's latest
    assert len(in_use) == 7
    history = {h.family: h for h in inventory.families}
    assert history["svc-0"].active_revisions == [1, 2]
    assert [r.revision for r in history["svc-0"].older_revisions] == [1]


def test_secret_values_never_reach_the_inventory():
    _, _, inventory = _collect(FakeEcs([1]))
    dumped = inventory.model_dump_json()
    assert "hunter2-secret" not in dumped
    assert "DB_PASSWORD" in dumped


def test_a_denied_call_is_recorded_against_the_cluster_and_the_rest_is_collected():
    fake = FakeEcs([2, 2], tasks_per_cluster=1)
    fake.denied.add(("ListTasks", fake.clusters[0]))
    api, ctx, inventory = _collect(fake)
    assert [(e.action, e.error_code, e.resources) for e in ctx.errors] == [
        ("ecs:ListTasks", "AccessDeniedException", [fake.clusters[0]])
    ]
    assert len(inventory.services) == 4
    assert {t.cluster_arn for t in inventory.tasks} == {fake.clusters[1]}


def test_history_depth_bounds_the_calls_and_marks_truncation():
    api, ctx, inventory = _collect(FakeEcs([1]), history_depth=0)
    assert all(h.history_truncated for h in inventory.families)
    assert all(not h.older_revisions for h in inventory.families)
    # Every revision that was not read is named (SECURITY-017 says which).
    for history in inventory.families:
        expected = sorted(set(history.active_revisions + history.inactive_revisions) - {max(history.active_revisions)})
        assert history.unread_revisions == expected


def _history_reads(api: FakeApi, family: str) -> list[int]:
    refs = [p["taskDefinition"] for key, p in api.requests if key == "ecs.DescribeTaskDefinition"]
    return sorted(int(r.rsplit(":", 1)[1]) for r in refs if r.startswith(f"{family}:"))


def test_newer_revisions_are_read_first_newest_first_then_older_ones_within_the_depth():
    fake = FakeEcs([1])
    fake.extra_revisions["svc-0"] = 60
    fake.deployed["svc-0"] = 50
    api, ctx, inventory = _collect(fake, history_depth=13)
    (history,) = [h for h in inventory.families if h.family == "svc-0"]
    # 51-60 are newer than the deployed 50: read first; the depth's other 3 go to 49, 48, 47
    assert _history_reads(api, "svc-0") == [47, 48, 49, *range(51, 61)]
    assert [r.revision for r in history.older_revisions] == [*range(60, 50, -1), 49, 48, 47]
    assert history.unread_revisions == list(range(1, 47))
    assert history.failed_revisions == [] and history.unread_limit == "history_depth 13"
    assert history.history_truncated


def test_thousands_of_newer_revisions_are_bounded_by_the_depth_and_named_unread():
    # CI registers every build while the service stays pinned at :5 (review3 item 5: the newer ones
    # were all read, 1,995 calls here and 19,995 for a family of 20,000).
    fake = FakeEcs([1])
    fake.extra_revisions["svc-0"] = 2000
    fake.deployed["svc-0"] = 5
    api, ctx, inventory = _collect(fake, history_depth=100)
    (history,) = [h for h in inventory.families if h.family == "svc-0"]
    assert _history_reads(api, "svc-0") == list(range(1901, 2001))
    assert history.unread_revisions == [*range(1, 5), *range(6, 1901)]
    assert history.unread_limit == "history_depth 100" and history.history_truncated


def test_the_region_budget_also_bounds_newer_revisions():
    fake = FakeEcs([2])
    fake.extra_revisions["svc-0"] = 500
    fake.deployed["svc-0"] = 5
    fake.extra_revisions["svc-1"] = 10
    fake.deployed["svc-1"] = 10
    api, ctx, inventory = _collect(fake, history_depth=1000, history_region_budget=20)
    history = {h.family: h for h in inventory.families}
    assert api.calls["ecs.DescribeTaskDefinition"] - len(inventory.task_definitions) == 20
    assert _history_reads(api, "svc-1") == list(range(1, 10))  # not starved by svc-0's newer ones
    assert _history_reads(api, "svc-0") == list(range(490, 501))
    assert history["svc-0"].unread_limit == "history_region_budget 20"
    assert history["svc-0"].unread_revisions == [*range(1, 5), *range(6, 490)]
    assert history["svc-1"].unread_revisions == [] and not history["svc-1"].history_truncated


def test_the_region_budget_is_shared_round_robin_so_no_family_starves():
    fake = FakeEcs([3])
    for family in ("svc-0", "svc-1", "svc-2"):
        fake.extra_revisions[family] = 30
        fake.deployed[family] = 30
    fake.extra_revisions["svc-0"] = 31  # one newer revision: read first, counted in the budget
    api, ctx, inventory = _collect(fake, history_region_budget=6)
    history = {h.family: h for h in inventory.families}
    assert _history_reads(api, "svc-0") == [29, 31]
    assert _history_reads(api, "svc-1") == [28, 29]
    assert _history_reads(api, "svc-2") == [28, 29]
    assert history["svc-2"].unread_revisions == list(range(1, 28))
    assert history["svc-2"].unread_limit == "history_region_budget 6"
    assert history["svc-0"].unread_revisions == list(range(1, 29))


def test_a_failed_read_is_named_apart_from_the_revisions_left_unread_by_a_limit():
    fake = FakeEcs([1])
    fake.extra_revisions["svc-0"] = 10
    fake.deployed["svc-0"] = 10
    fake.unreadable = {9}
    api, ctx, inventory = _collect(fake, history_depth=2)
    (history,) = [h for h in inventory.families if h.family == "svc-0"]
    assert [r.revision for r in history.older_revisions] == [8]
    assert history.failed_revisions == [9]
    assert history.unread_revisions == [*range(1, 8), 9]
    assert [e.action for e in ctx.errors] == ["ecs:DescribeTaskDefinition"]


def test_revisions_are_listed_for_the_whole_region_which_also_names_the_families():
    api, ctx, inventory = _collect(FakeEcs([30, 30]))  # 60 in-use families, 124 ACTIVE revisions
    listings = [p for key, p in api.requests if key == "ecs.ListTaskDefinitions"]
    assert all("familyPrefix" not in p for p in listings)
    assert api.calls["ecs.ListTaskDefinitions"] == 2 + 1  # ACTIVE: two pages of 100; INACTIVE: one
    assert api.calls["ecs.ListTaskDefinitionFamilies"] == 0
    assert "orphan" in {td.family for td in inventory.task_definitions}
    assert len(inventory.families) == 60 and ctx.errors == []


def test_a_region_wide_listing_longer_than_the_per_family_way_falls_back_to_it():
    fake = FakeEcs([1])
    fake.extra_revisions["retired"] = 450  # a family that runs nowhere, with a long history
    api, ctx, inventory = _collect(fake)
    per_family = [p["familyPrefix"] for key, p in api.requests if key == "ecs.ListTaskDefinitions" and "familyPrefix" in p]
    assert sorted(per_family) == ["svc-0"]  # ACTIVE only: the INACTIVE list fitted in its budget
    # the budget: one page per in-use family, plus one for ListTaskDefinitionFamilies
    assert api.calls["ecs.ListTaskDefinitions"] == 2 + 1 + 1
    assert api.calls["ecs.ListTaskDefinitionFamilies"] == 1
    assert {td.family for td in inventory.task_definitions} >= {"svc-0", "retired", "orphan"}
    assert inventory.families[0].active_revisions == [1, 2] and ctx.errors == []


def test_a_failed_region_wide_listing_is_recorded_against_the_in_use_families():
    fake = FakeEcs([2])
    fake.denied.add(("ListTaskDefinitions", "*"))
    api, ctx, inventory = _collect(fake)
    (error,) = {(e.action, e.context, tuple(e.resources)) for e in ctx.errors}
    assert error == ("ecs:ListTaskDefinitions", "history", (f"{PREFIX}task-definition/svc-0", f"{PREFIX}task-definition/svc-1"))
    assert inventory.families == []
    # the families that run nowhere still come from ListTaskDefinitionFamilies
    assert "orphan" in {td.family for td in inventory.task_definitions}


@pytest.mark.parametrize("operation", ["CreateCluster", "DeleteService", "RegisterTaskDefinition"])
def test_the_client_factory_refuses_writes_before_sending(operation):
    from botocore import xform_name

    from ecs_audit.errors import ReadOnlyViolation

    api = FakeApi()
    clients = ClientFactory(api.session(), ALLOWED_ACTIONS)
    client = clients.client("ecs", "us-east-1")
    kwargs = {"CreateCluster": {}, "DeleteService": {"service": "x"}, "RegisterTaskDefinition": {"family": "f", "containerDefinitions": []}}
    with pytest.raises(ReadOnlyViolation):
        getattr(client, xform_name(operation))(**kwargs[operation])
    assert sum(api.calls.values()) == 0


def test_secret_reads_are_refused_whatever_the_credentials():
    from ecs_audit.errors import ReadOnlyViolation

    api = FakeApi()
    clients = ClientFactory(api.session(), ALLOWED_ACTIONS)
    with pytest.raises(ReadOnlyViolation):
        clients.client("secretsmanager", "us-east-1").get_secret_value(SecretId="x")
    with pytest.raises(ReadOnlyViolation):
        clients.client("ssm", "us-east-1").get_parameters(Names=["x"], WithDecryption=True)
    with pytest.raises(ReadOnlyViolation):
        clients.client("ecr", "us-east-1").get_authorization_token()
    assert sum(api.calls.values()) == 0


def test_the_allowlist_holds_only_reads():
    readonly_prefixes = ("List", "Describe", "Get", "BatchGet")
    for action in ALLOWED_ACTIONS:
        operation = action.split(":", 1)[1]
        assert operation.startswith(readonly_prefixes), action
    forbidden = {"secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer"}
    assert not forbidden & ALLOWED_ACTIONS


def test_container_instances_are_listed_only_where_clusters_have_them():
    fake = FakeEcs([0, 0])
    original = fake.describe_clusters

    def with_instances(p):
        out = original(p)
        out["clusters"][0]["registeredContainerInstancesCount"] = 3
        return out

    api = FakeApi()
    fake.install(api)
    api.on("ecs.DescribeClusters", with_instances)
    api.on("ecs.ListContainerInstances", lambda p: page([f"{PREFIX}container-instance/c0/{i}" for i in range(3)], p, "containerInstanceArns", 100, 100))
    api.on(
        "ecs.DescribeContainerInstances",
        lambda p: {
            "containerInstances": [
                {"containerInstanceArn": a, "agentConnected": True, "attributes": [{"name": "ecs.ami-id", "value": "ami-123"}]}
                for a in p["containerInstances"]
            ],
            "failures": [],
        },
    )
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert api.calls["ecs.ListContainerInstances"] == 1
    assert api.calls["ecs.DescribeContainerInstances"] == 1
    instances = inventory.container_instances[fake.clusters[0]]
    assert [i.ami_id for i in instances] == ["ami-123"] * 3
    assert ctx.errors == []


def test_a_region_without_clusters_costs_one_call():
    api, ctx, inventory = _collect(FakeEcs([]))
    assert sum(api.calls.values()) == 1 and inventory.clusters == []


def test_a_clusters_task_definitions_are_described_before_the_other_clusters_services_are_listed():
    # c1's services are known first; c2's ListServices answers only once a task definition of c1's
    # services has been asked for (or after WAIT, and then the assertion fails): a cluster does not
    # wait for every other cluster before its task definitions are read.
    import threading

    fake = FakeEcs([3, 3])
    api = FakeApi()
    fake.install(api)
    asked = threading.Event()
    list_services, describe = fake.list_services, fake.describe_task_definition

    order: list[str] = []

    def slow_list_services(p: dict[str, Any]) -> dict[str, Any]:
        if p["cluster"] == fake.clusters[1]:
            order.append("c2 described first" if asked.wait(5.0) else "c2 waited in vain")
        return list_services(p)

    def described(p: dict[str, Any]) -> dict[str, Any]:
        asked.set()
        return describe(p)

    api.on("ecs.ListServices", slow_list_services)
    api.on("ecs.DescribeTaskDefinition", described)
    seen: list[str] = []
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", max_workers=8)
    inventory = collect_ecs(ctx, AuditConfig(), on_definition=lambda td: seen.append(td.task_definition_arn))
    assert order == ["c2 described first"]
    # The same inventory as ever: every service's definition once, handed on as described.
    in_use = {_td_arn(fake.family_of(s), 2) for arns in fake.services.values() for s in arns}
    assert sorted(seen) == sorted(in_use)
    plain_api, _, plain = _collect(FakeEcs([3, 3]))
    assert inventory == plain and api.calls == plain_api.calls


def test_the_definitions_step_comes_with_the_rollback_targets_before_the_rest_of_the_history():
    # The other collectors start on the DEFINITIONS step: every task definition they read is known,
    # and of the history only the rollback targets (ECR describes their images); the rest of the
    # history is read after it. The inventory and the calls are the same as ever.
    from ecs_audit.collect.ecr import rollback_images, wanted_images
    from ecs_audit.inventory.parts import DEFINITIONS

    fake = FakeEcs([2])
    fake.extra_revisions["svc-0"] = 8
    fake.deployed["svc-0"] = 6
    api = FakeApi()
    fake.install(api)
    steps: dict[str, Any] = {}
    asked_before: list[str] = []

    def on_step(step: str, known: Any) -> None:
        steps[step] = known
        if step == DEFINITIONS:
            asked_before.extend(p["taskDefinition"] for key, p in api.requests if key == "ecs.DescribeTaskDefinition")

    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", max_workers=8)
    inventory = collect_ecs(ctx, AuditConfig(), on_step=on_step)
    view = steps[DEFINITIONS]
    assert view.task_definitions == inventory.task_definitions and view.services == inventory.services
    # svc-0 runs :6; its rollback target is :5, read before the step; 8, 7, 4, 3, 2, 1 after it.
    assert "svc-0:5" in asked_before and not {"svc-0:8", "svc-0:7", "svc-0:4"} & set(asked_before)
    history = {h.family: h for h in view.families}
    assert [r.revision for r in history["svc-0"].older_revisions] == [5]
    assert rollback_images(view) == rollback_images(inventory) != []
    assert vars(wanted_images(view, ACCOUNT, "us-east-1")) == vars(wanted_images(inventory, ACCOUNT, "us-east-1"))
    final = {h.family: h for h in inventory.families}
    assert [r.revision for r in final["svc-0"].older_revisions] == [8, 7, 5, 4, 3, 2, 1]
    plain_api, _, plain = _collect(fake)
    assert inventory == plain and api.calls == plain_api.calls


def _with_managed_instances(api: FakeApi, fake: FakeEcs, daemons: dict[str, list[str]]) -> None:
    """Cluster c0 uses a Managed Instances capacity provider, c1 none; `daemons`: daemon name -> images."""
    original = fake.describe_clusters

    def describe_clusters(p):
        out = original(p)
        out["clusters"][0]["capacityProviders"] = ["mi-cp", "FARGATE"]
        return out

    provider_arn = f"{PREFIX}capacity-provider/mi-cp"
    api.on("ecs.DescribeClusters", describe_clusters)
    api.on(
        "ecs.DescribeCapacityProviders",
        lambda p: {"capacityProviders": [{"name": "mi-cp", "capacityProviderArn": provider_arn, "type": "MANAGED_INSTANCES"}], "failures": []},
    )
    arns = [f"{PREFIX}daemon/c0/{name}" for name in sorted(daemons)]

    def list_daemons(p):
        assert p["clusterArn"] == fake.clusters[0], "daemons are listed only where Managed Instances are"
        return page([{"daemonArn": a, "status": "ACTIVE"} for a in arns], p, "daemonSummariesList", 1, 100)

    api.on("ecs.ListDaemons", list_daemons)
    api.on(
        "ecs.DescribeDaemon",
        lambda p: {
            "daemon": {
                "daemonArn": p["daemonArn"],
                "clusterArn": fake.clusters[0],
                "status": "ACTIVE",
                "currentRevisions": [{"arn": p["daemonArn"] + "/rev/1", "capacityProviders": [{"arn": provider_arn, "runningCount": 2}]}],
            }
        },
    )

    def describe_revisions(p):
        assert len(p["daemonRevisionArns"]) <= 20
        return {
            "daemonRevisions": [
                {
                    "daemonRevisionArn": arn,
                    "containerImages": [{"containerName": "agent", "image": image} for image in daemons[arn.split("/")[-3]]],
                }
                for arn in p["daemonRevisionArns"]
            ],
            "failures": [],
        }

    api.on("ecs.DescribeDaemonRevisions", describe_revisions)


def test_managed_daemons_are_read_only_in_clusters_with_managed_instances_providers():
    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {"falcon": ["falcon-sensor:7.20"], "logs": ["fluent-bit:3", "sidecar:1"]})
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert ctx.errors == []
    assert api.calls["ecs.ListDaemons"] == 2  # one daemon a page: the token is followed
    assert api.calls["ecs.DescribeDaemon"] == 2
    assert api.calls["ecs.DescribeDaemonRevisions"] == 1
    assert [(d.daemon_arn.rsplit("/", 1)[1], d.images) for d in inventory.daemons] == [
        ("falcon", ["falcon-sensor:7.20"]),
        ("logs", ["fluent-bit:3", "sidecar:1"]),
    ]
    assert inventory.daemons[0].revisions[0].capacity_providers == [f"{PREFIX}capacity-provider/mi-cp"]


def test_no_daemon_call_without_managed_instances_and_none_when_no_selected_check_needs_them():
    api, ctx, inventory = _collect(FakeEcs([1]))
    assert "ecs.ListDaemons" not in api.calls and inventory.daemons == []

    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {"falcon": ["falcon-sensor:7.20"]})
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1", needed=frozenset({"ecs:DescribeServices"}))
    inventory = collect_ecs(ctx, AuditConfig())
    assert "ecs.ListDaemons" not in api.calls and inventory.daemons == []
    assert {(e.operation, e.error_code) for e in ctx.skipped} >= {("ListDaemons", "NotCollected")}


def test_a_denied_daemon_listing_is_recorded_against_its_cluster():
    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {})

    def denied(p):
        raise ApiFault("AccessDeniedException", "not authorized to perform ecs:ListDaemons")

    api.on("ecs.ListDaemons", denied)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert inventory.daemons == []
    assert [(e.operation, e.resources) for e in ctx.errors] == [("ListDaemons", [fake.clusters[0]])]


def test_a_managed_instances_provider_is_asked_again_with_its_cluster():
    # A Managed Instances capacity provider belongs to one cluster: DescribeCapacityProviders returns it
    # only when asked with that cluster (API_DescribeCapacityProviders.html, `cluster`). Without it,
    # the provider would be taken for an Auto Scaling group one (EC2) and its managed daemons never read.
    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {"falcon": ["falcon-sensor:7.20"]})
    provider = {"name": "mi-cp", "capacityProviderArn": f"{PREFIX}capacity-provider/mi-cp", "type": "MANAGED_INSTANCES"}
    asked: list[tuple[str | None, list[str]]] = []

    def like_aws(p):
        asked.append((p.get("cluster"), p["capacityProviders"]))
        if p.get("cluster") == "c0":
            return {"capacityProviders": [provider], "failures": []}
        return {"capacityProviders": [], "failures": [{"arn": name, "reason": "MISSING"} for name in p["capacityProviders"]]}

    api.on("ecs.DescribeCapacityProviders", like_aws)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert ctx.errors == []
    assert asked == [(None, ["mi-cp"]), ("c0", ["mi-cp"])]
    assert [(p.name, p.type) for p in inventory.capacity_providers] == [("mi-cp", "MANAGED_INSTANCES")]
    assert [d.images for d in inventory.daemons] == [["falcon-sensor:7.20"]]

    # Not returned even with its cluster: recorded against the cluster (never taken for EC2).
    api.on("ecs.DescribeCapacityProviders", lambda p: {"capacityProviders": [], "failures": []})
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert inventory.capacity_providers == []
    assert [(e.operation, e.error_code, e.resources) for e in ctx.errors] == [("DescribeCapacityProviders", "NotReturned", [fake.clusters[0]])]


def test_a_failed_capacity_provider_call_is_not_sent_again_per_cluster():
    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {})

    def denied(p):
        raise ApiFault("AccessDeniedException", "not authorized to perform ecs:DescribeCapacityProviders")

    api.on("ecs.DescribeCapacityProviders", denied)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    collect_ecs(ctx, AuditConfig())
    assert api.calls["ecs.DescribeCapacityProviders"] == 1
    assert [(e.operation, e.resources) for e in ctx.errors] == [("DescribeCapacityProviders", [fake.clusters[0]])]


def test_a_daemon_revision_not_described_is_recorded_against_its_cluster():
    # SECURITY-011 asks whether a cluster's daemons are known by cluster: a revision AWS reports as a
    # failure (even MISSING, unlike other ECS describes) leaves that daemon's images unknown.
    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {"falcon": ["falcon-sensor:7.20"]})
    api.on(
        "ecs.DescribeDaemonRevisions",
        lambda p: {"daemonRevisions": [], "failures": [{"arn": arn, "reason": "MISSING"} for arn in p["daemonRevisionArns"]]},
    )
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert [d.images for d in inventory.daemons] == [[]]
    assert [(e.operation, e.error_code, e.resources) for e in ctx.errors] == [("DescribeDaemonRevisions", "Failure:MISSING", [fake.clusters[0]])]
    assert "falcon/rev/1" in ctx.errors[0].message


def _older_botocore(session: Any, service: str, lacking: list[str], models: Path) -> None:
    """Make `session` model `service` as an older botocore does: without the operations `lacking`."""
    model = botocore.loaders.Loader().load_service_model(service, "service-2")
    for operation in lacking:
        del model["operations"][operation]
    path = models / service / model["metadata"]["apiVersion"] / "service-2.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(model), encoding="utf-8")
    session._session.get_component("data_loader").search_paths.insert(0, str(models))


def test_an_operation_the_installed_botocore_lacks_is_a_recorded_failure_not_a_lost_region(tmp_path: Path):
    # pyproject.toml allows botocore from 1.42.81 (the first with ECS Managed Daemons); one older than
    # that has no list_daemons method. The cluster's daemons are then unknown (SECURITY-011 UNKNOWN);
    # the rest of the region's ECS inventory is still collected.
    fake = FakeEcs([2, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {"falcon": ["falcon-sensor:7.20"]})
    session = api.session()
    _older_botocore(session, "ecs", ["ListDaemons", "DescribeDaemon", "DescribeDaemonRevisions"], tmp_path)
    assert not hasattr(ClientFactory(session, ALLOWED_ACTIONS).client("ecs", "us-east-1"), "list_daemons")
    ctx = CollectContext(ClientFactory(session, ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert "ecs.ListDaemons" not in api.calls and inventory.daemons == []
    assert [(e.operation, e.error_code, e.resources) for e in ctx.errors] == [("ListDaemons", "UnknownOperation", [fake.clusters[0]])]
    assert "does not know ecs:ListDaemons" in ctx.errors[0].message
    assert len(inventory.clusters) == 2 and len(inventory.services) == 3
    assert {"svc-0", "svc-1", "svc-2"} <= {td.family for td in inventory.task_definitions}
    assert [p.name for p in inventory.capacity_providers] == ["mi-cp"]


def test_an_unknown_operation_is_recorded_by_every_way_of_calling(tmp_path: Path):
    api = FakeApi()
    session = api.session()
    _older_botocore(session, "ecs", ["ListClusters", "DescribeClusters"], tmp_path)
    ctx = CollectContext(ClientFactory(session, ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    assert ctx.paginate("ecs", "ListClusters", "clusterArns") is None
    ctx.prefetch("ecs", "DescribeClusters", clusters=["c"])
    assert ctx.sent_ahead("ecs", "DescribeClusters", clusters=["c"]) is None
    assert ctx.call("ecs", "DescribeClusters", clusters=["c"]) is None
    assert ctx.call("ecs", "DescribeClusters", clusters=["d"]) is None
    assert [(e.operation, e.error_code) for e in ctx.errors] == [("ListClusters", "UnknownOperation")] + [("DescribeClusters", "UnknownOperation")] * 2
    assert api.calls == {}


def test_a_service_naming_its_task_definition_without_a_revision_does_not_stop_the_collection():
    # AWS answers full ARNs; an endpoint that echoes a bare family (moto after UpdateService) must not
    # crash the collector (a crash would lose the region's whole ECS inventory).
    fake = FakeEcs([2])
    original = fake.describe_services

    def bare_family(p):
        out = original(p)
        out["services"][0]["taskDefinition"] = "svc-0"
        out["services"][0]["deployments"][0]["taskDefinition"] = "svc-0"
        return out

    api = FakeApi()
    fake.install(api)
    api.on("ecs.DescribeServices", bare_family)
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    inventory = collect_ecs(ctx, AuditConfig())
    assert ctx.errors == []
    assert len(inventory.services) == 2
    assert {f.family for f in inventory.families} >= {"svc-0", "svc-1"}


def test_a_managed_daemon_missing_on_some_instances_keeps_the_count_per_provider():
    fake = FakeEcs([1, 1])
    api = FakeApi()
    fake.install(api)
    _with_managed_instances(api, fake, {"falcon": ["falcon-sensor:7.20"]})
    provider_arn = f"{PREFIX}capacity-provider/mi-cp"
    api.on(
        "ecs.DescribeDaemon",
        lambda p: {
            "daemon": {
                "daemonArn": p["daemonArn"], "clusterArn": fake.clusters[0], "status": "ACTIVE",
                "currentRevisions": [{"arn": p["daemonArn"] + "/rev/1", "capacityProviders": [{"arn": provider_arn, "runningCount": 3, "withoutDaemonCount": 2}]}],
            }
        },
    )
    ctx = CollectContext(ClientFactory(api.session(), ALLOWED_ACTIONS), ACCOUNT, "us-east-1")
    (daemon,) = collect_ecs(ctx, AuditConfig()).daemons
    assert daemon.revisions[0].instances_without == {provider_arn: 2}
