"""The shipped deployment: the image's task definition passes ecs-audit's own checks, the
CloudFormation template passes cfn-lint, its state machine is wired as docs/deployment.md says, and
the Dockerfile keeps its promises (pinned base, non-root, read-only root filesystem, no secrets).

Docker cannot build here (no daemon, no registry but PyPI); the Dockerfile is checked statically and
its build context is shown to be enough to build the wheel.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from ecs_audit.catalogue import load_catalogue
from ecs_audit.cli import app
from ecs_audit.config import AuditConfig
from ecs_audit.evaluation.engine import evaluate
from ecs_audit.inventory.arns import TASKDEF_TYPE
from ecs_audit.findings import Status
from ecs_audit.rules.registry import load_registry
from tests.support.estate import build_inventory

ROOT = Path(__file__).resolve().parents[2]
TASK_DEFINITION = ROOT / "deploy" / "task-definition.json"
TEMPLATE = ROOT / "deploy" / "cloudformation" / "org-audit.yaml"

# The only results of the task definition that are not PASS/N/A/UNKNOWN, and why that is right here.
WAIVED = {
    # A run-to-completion batch task, not a service: ECS replaces no standalone task, whatever its
    # health; a hang is bounded by the state machine's TimeoutSeconds on RunTask instead.
    "TASKDEF-004": "batch task: Step Functions TimeoutSeconds bounds a hang",
    # No traces or custom metrics to collect: the task's logs go to CloudWatch Logs (OBSERVABILITY-003
    # passes) and Step Functions records every run; an ADOT sidecar would only add cost.
    "OBSERVABILITY-005": "batch task: logs and the execution history are its telemetry",
}


# --- the task definition through the engine ----------------------------------------------------


def _taskdef_findings(definition: dict[str, Any]):
    catalogue = load_catalogue()
    scopes = {entry.id: {s.value for s in entry.scope} for entry in catalogue.checks}
    inventory = build_inventory({"task_definitions": [definition]})
    findings = evaluate(inventory, catalogue, load_registry(), AuditConfig())
    return [f for f in findings if scopes[f.check_id] & {"TASKDEF", "CONTAINER"} and f.resource.type == TASKDEF_TYPE]


def test_the_images_task_definition_passes_the_task_and_container_checks():
    definition = json.loads(TASK_DEFINITION.read_text())
    findings = _taskdef_findings(definition)
    assert len({f.container for f in findings if f.container}) == 3, "every container was evaluated"
    bad = {(f.check_id, f.container): f.message for f in findings if f.status in (Status.FAIL, Status.WARN)}
    assert {check for check, _ in bad} == set(WAIVED), bad
    passed = {f.check_id for f in findings if f.status is Status.PASS}
    # the hardening the deployment relies on is verified by the checks themselves
    for check in ("SECURITY-001", "SECURITY-002", "SECURITY-003", "SECURITY-004", "SECURITY-008", "IMAGE-001", "IMAGE-006"):
        assert check in passed, check


def test_the_waivers_are_needed_each_is_a_real_finding():
    """Removing the waived gap's cause makes it pass: the waiver list hides nothing else."""
    definition = json.loads(TASK_DEFINITION.read_text())
    weakened = json.loads(TASK_DEFINITION.read_text())
    weakened["containerDefinitions"][1]["readonlyRootFilesystem"] = False
    weakened["containerDefinitions"][1]["user"] = "root"
    statuses = {(f.check_id, f.container): f.status for f in _taskdef_findings(weakened)}
    assert statuses[("SECURITY-001", "ecs-audit")] is Status.FAIL
    assert statuses[("SECURITY-003", "ecs-audit")] is Status.FAIL
    assert definition != weakened


def _camel(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        if key == "Options":  # log driver options keep their names
            return dict(value)
        return {k[0].lower() + k[1:]: _camel(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


SECURITY_FIELDS = (
    "name", "essential", "user", "readonlyRootFilesystem", "privileged", "linuxParameters", "mountPoints",
    "dependsOn", "cpu", "memory", "memoryReservation", "command",
)  # fmt: skip


def test_the_templates_task_definition_is_the_shipped_one():
    json_def = json.loads(TASK_DEFINITION.read_text())
    cfn = _template()["Resources"]["TaskDefinition"]["Properties"]
    cfn_containers = _camel(cfn["ContainerDefinitions"])
    assert [c["name"] for c in cfn_containers] == [c["name"] for c in json_def["containerDefinitions"]]
    for mine, shipped in zip(cfn_containers, json_def["containerDefinitions"]):
        for field in SECURITY_FIELDS:
            assert mine.get(field) == shipped.get(field), (mine["name"], field)
        assert mine["logConfiguration"]["options"]["mode"] == "non-blocking"
    for field in ("Cpu", "Memory", "NetworkMode", "RequiresCompatibilities"):
        assert cfn[field] == json_def[field[0].lower() + field[1:]]
    assert [v["Name"] for v in cfn["Volumes"]] == [v["name"] for v in json_def["volumes"]]


# --- the CloudFormation template ----------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, ...) kept as {"Fn": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def _template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def test_the_template_passes_cfn_lint():
    from cfnlint.api import lint_all

    # Errors and warnings, as the cfn-lint command reports by default (I4010, informational, asks
    # for architecture notes in the template's Metadata: docs/deployment.md has them).
    matches = [m for m in lint_all(TEMPLATE.read_text()) if m.rule.id[0] in "EW" or m.rule.id == "I3011"]
    assert [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches] == []


def test_cfn_lint_would_catch_a_broken_template():
    """The lint test can fail: cfn-lint validates the state machine against the ASL schema."""
    from cfnlint.api import lint_all

    broken = TEMPLATE.read_text().replace("Type: Map", "Type: Mapp", 1)
    assert any(m.rule.id == "E3601" for m in lint_all(broken))


SAMPLE = {
    "Cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/audit",
    "TaskDefinition": "arn:aws:ecs:eu-west-1:111122223333:task-definition/audit:1",
    "Subnets": "subnet-1,subnet-2",
    "SecurityGroup": "sg-1",
    "Bucket": "audit-reports",
    "MemberRoleName": "ECSAuditReadOnly",
    "ExternalId": "external-id",
    "ShardCount": "4",
    "MaxConcurrency": "2",
    "Topic": "arn:aws:sns:eu-west-1:111122223333:audit",
}


def _definition() -> dict[str, Any]:
    machine = _template()["Resources"]["StateMachine"]["Properties"]
    assert set(machine["DefinitionSubstitutions"]) == set(SAMPLE)
    text = json.dumps(machine["Definition"])
    used = set(re.findall(r"\$\{(\w+)\}", text))
    assert used <= set(SAMPLE), used - set(SAMPLE)
    for name, value in SAMPLE.items():
        text = text.replace("${" + name + "}", value)
    return json.loads(text)


def _walk(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, state, the states it is among) for every state, nested ones included."""
    for name, state in machine["States"].items():
        yield name, state, machine["States"]
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _walk(processor)
        for branch in state.get("Branches", []):
            yield from _walk(branch)


def _successors(state: dict[str, Any]) -> set[str]:
    out = {state[k] for k in ("Next", "Default") if k in state}
    out |= {choice["Next"] for choice in state.get("Choices", [])}
    out |= {catch["Next"] for catch in state.get("Catch", [])}
    return out


def _check_graph(machine: dict[str, Any]) -> None:
    states = machine["States"]
    assert machine["StartAt"] in states
    reached, todo = set(), [machine["StartAt"]]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        successors = _successors(states[name])
        assert successors <= set(states), f"{name} leads to {successors - set(states)}"
        todo.extend(successors)
        if not successors:
            assert states[name].get("End") or states[name]["Type"] in ("Succeed", "Fail"), f"{name} is a dead end"
    assert reached == set(states), f"unreachable: {set(states) - reached}"
    for state in states.values():
        processor = state.get("ItemProcessor")
        if processor:
            _check_graph(processor)


def _literal_args(expression: str) -> list[str]:
    return re.findall(r"'([^']*)'", expression)


def _command(state: dict[str, Any], container: str) -> str:
    overrides = state["Parameters"]["Overrides"]["ContainerOverrides"]
    return next(o["Command.$"] for o in overrides if o["Name"] == container)


def _cli_options(command: str) -> set[str]:
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    return {opt for param in click_command.params for opt in getattr(param, "opts", [])}


def test_the_state_machine_is_valid_and_every_state_is_reachable():
    definition = _definition()
    _check_graph(definition)
    for name, state, _ in _walk(definition):
        assert state["Type"] in ("Task", "Pass", "Choice", "Map", "Succeed", "Fail", "Wait", "Parallel"), name


def test_the_graph_check_can_fail():
    """cfn-lint does not follow Next: the graph check does."""
    definition = _definition()
    definition["States"]["AuditShards"]["Next"] = "NoSuchState"
    with pytest.raises(AssertionError, match="NoSuchState"):
        _check_graph(definition)
    definition = _definition()
    definition["States"]["Orphan"] = {"Type": "Succeed"}
    with pytest.raises(AssertionError, match="unreachable"):
        _check_graph(definition)


def test_shards_run_as_a_distributed_map_of_fargate_tasks_then_one_merge():
    definition = _definition()
    states = definition["States"]
    plan = states[definition["StartAt"]]
    assert plan["Parameters"]["shards.$"] == "States.ArrayRange(1, 4, 1)"
    fan_out = states[plan["Next"]]
    assert fan_out["Type"] == "Map"
    assert fan_out["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert "MaxConcurrency" in fan_out or fan_out["MaxConcurrencyPath"] == "$.maxConcurrency"
    assert plan["Parameters"]["maxConcurrency.$"] == "States.StringToJson('2')"
    assert fan_out["ItemsPath"] == "$.shards" and fan_out["ItemSelector"]["shard.$"] == "$$.Map.Item.Value"

    processor = fan_out["ItemProcessor"]
    shard = processor["States"][processor["StartAt"]]
    assert shard["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert shard["Parameters"]["LaunchType"] == "FARGATE"
    retry = shard["Retry"][0]
    assert "States.TaskFailed" in retry["ErrorEquals"] and retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 1
    audit = _command(shard, "ecs-audit")
    args = _literal_args(audit)
    assert args[0] == "scan" and "--shard" in args and "States.Format('{}/4', $.shard)" in audit
    assert {a for a in args if a.startswith("--")} <= _cli_options("scan")
    snapshot = args[args.index("--save-snapshot") + 1]
    upload = _command(shard, "publish")
    assert _literal_args(upload)[:3] == ["s3", "cp", snapshot]
    assert "s3://audit-reports/runs/{}/shards/shard-{}.json" in upload

    merge = states[fan_out["Next"]]
    assert merge["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    fetch = _literal_args(_command(merge, "fetch"))
    assert fetch[:2] == ["s3", "cp"] and "s3://audit-reports/runs/{}/shards/" in _command(merge, "fetch")
    merge_args = _literal_args(_command(merge, "ecs-audit"))
    assert merge_args[0] == "merge" and merge_args[1] == fetch[3].rstrip("/"), "merge reads what fetch downloaded"
    assert {a for a in merge_args if a.startswith("--")} <= _cli_options("merge")
    report_dir = merge_args[merge_args.index("--output-dir") + 1]
    assert _literal_args(_command(merge, "publish"))[:3] == ["s3", "cp", report_dir + "/"]
    assert "s3://audit-reports/reports/{}/" in _command(merge, "publish")
    # failures go to the notification, then fail the execution; success notifies when a topic is set
    assert {c["Next"] for c in fan_out["Catch"]} == {c["Next"] for c in merge["Catch"]} == {"ShouldNotifyFailure"}
    assert states[merge["Next"]]["Type"] == "Choice"
    assert states["Notify"]["Resource"] == "arn:aws:states:::sns:publish"


def test_the_container_overrides_name_containers_of_the_task_definition():
    names = {c["name"] for c in json.loads(TASK_DEFINITION.read_text())["containerDefinitions"]}
    for name, state, _ in _walk(_definition()):
        if state.get("Resource") == "arn:aws:states:::ecs:runTask.sync":
            assert {o["Name"] for o in state["Parameters"]["Overrides"]["ContainerOverrides"]} <= names, name


def test_the_state_machine_role_may_run_only_the_audit_task_definition():
    resources = _template()["Resources"]
    statements = resources["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    run = next(s for s in statements if s["Action"] == "ecs:RunTask")
    assert "task-definition/${AWS::StackName}:*" in run["Resource"]["Fn::Sub"]
    assert run["Condition"]["ArnEquals"]["ecs:cluster"] == {"Fn::GetAtt": "Cluster.Arn"}
    task_role = resources["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in task_role for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["organizations:ListAccounts", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "sts:AssumeRole"]


# --- the Dockerfile -----------------------------------------------------------------------------


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_dockerfile_pins_its_base_by_digest_and_runs_as_a_user():
    text = _dockerfile()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", base.group(1))
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"], "multi-stage, both stages on the pinned base"
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] == "10001:10001"
    assert re.search(r'^ENTRYPOINT \["ecs-audit"\]$', text, re.M)
    definition = json.loads(TASK_DEFINITION.read_text())
    audit = next(c for c in definition["containerDefinitions"] if c["name"] == "ecs-audit")
    assert audit["user"] == users[-1]
    # with a read-only root filesystem everything written goes to the task's volumes
    assert re.search(r"^ENV HOME=/tmp TMPDIR=/tmp$", text, re.M) and re.search(r"^WORKDIR /work$", text, re.M)
    assert {m["containerPath"] for m in audit["mountPoints"]} == {"/tmp", "/work"}


def test_the_dockerfile_bakes_in_no_secrets():
    for line in _dockerfile().splitlines():
        if line.startswith(("ENV", "ARG")):
            assert not re.search(r"(?i)(secret|password|token|aws_access|aws_session)", line), line


def test_the_docker_build_context_holds_what_the_wheel_needs(tmp_path: Path):
    """Copy only what .dockerignore lets through and build the wheel from it, as the build stage does."""
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    context = tmp_path / "context"
    for name in allowed:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / name)
    copied = set(re.findall(r"^COPY (?!--)(\S+)", _dockerfile(), re.M))
    assert {p for c in copied for p in c.split()} <= {*allowed, "pyproject.toml"}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(context)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wheel = next((tmp_path / "dist").glob("ecs_audit-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("ecs_audit/_data/checks/") for n in names)
    assert any(n.startswith("ecs_audit/_data/templates/") for n in names)


@pytest.mark.parametrize("path", [TASK_DEFINITION])
def test_shipped_json_is_register_task_definition_input(path: Path):
    """The JSON takes `aws ecs register-task-definition --cli-input-json`: only the API's members."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    assert set(json.loads(path.read_text())) <= set(model.members)
