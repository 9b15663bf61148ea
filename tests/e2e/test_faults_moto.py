"""End to end under faults: the installed CLI scans the mixed estate through the fault-injection proxy.

One module fixture runs the scans side by side (each CLI process has its own proxy and faults): a clean
one, and one per fault to prove (docs/reliability.md lists them with these tests):

- throttled: every 5th call throttled and every 100th of the others a 503: the same report;
- malformed: answers cut short or replaced by an HTML page, per protocol: recorded, never a PASS;
- regions: one region times out, one drops connections, one denies everything: recorded, the rest
  of the audit completes with the clean results;
- expiring: assumed-role credentials expire every 40 calls: renewed, the same findings;
- renewal fails: they expire and AssumeRole is refused from then on: the rest is UNKNOWN with that cause;
- selected: --checks / --skip-checks;
- hostile: names, tags, environment variable names and image names carrying HTML, Markdown, CSV
  formulas and terminal escapes, in every output format and on the terminal.

Interruption (SIGTERM, SIGINT) runs its own processes against a slow proxy.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_audit.catalogue import load_catalogue
from ecs_audit.report.diff import load_report
from ecs_audit.rules.registry import load_registry
from ecs_audit.session import EXPIRED_CODES
from tests.e2e.conftest import Run, aws_env, cli_path
from tests.support.moto_server import MotoServer
from tests.support.proxy import (
    FaultProxy,
    after,
    delay,
    denied,
    drop_connection,
    error_reply,
    expire_credentials_after,
    in_region,
    install_enrichment,
    non_json_body,
    server_error_every,
    throttle_every,
    truncate_body,
)
from tests.support.seed import SeededAccount, seed_mixed_estate

pytestmark = pytest.mark.e2e

HOME = "us-east-1"
SLOW, REFUSING, DENIED = "eu-west-1", "ap-southeast-2", "eu-north-1"
HOSTILE_REGION = "eu-central-1"
# Give up on an unanswered call after 2 attempts of 10 s (the defaults: 9 of 30 s). With every scan of
# this module running at once, moto takes seconds for some calls: the timeout must not catch those.
FAST_FAILURE = {"ECS_AUDIT_READ_TIMEOUT": "10", "AWS_MAX_ATTEMPTS": "2"}
ROLE = "arn:aws:iam::123456789012:role/ecs-audit-e2e"
# Calls each assumed-role key is good for. More than twice the calls the CLI has in flight (16), so a
# call retried with freshly renewed credentials cannot find them used up by the others already.
EXPIRE_AFTER = 40
# Broken answers, one per wire protocol the collectors read: JSON, query (XML), REST JSON.
MALFORMED = {
    "ecs:DescribeTaskDefinition": truncate_body(),
    "elasticloadbalancing:DescribeTargetGroups": non_json_body(),
    "guardduty:GetDetector": non_json_body(b"upstream connect error or disconnect/reset before headers"),
}

# --- hostile content -----------------------------------------------------------------------------

HTML = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
ESC = "\x1b]0;pwned\x07"
SVG = "<svg onload=alert(3)>"
CLUSTER = f"evil{SVG}"  # ECS names cannot hold "/" (moto splits ARNs on it)
FAMILY = f"web{IMG}"
CONTAINER = "-2+3"
IMAGE = "@attacker/img:latest"
SECRET_ENV = f"DB_PASSWORD{HTML}"
ESCAPE_ENV = f"API_TOKEN{ESC}"
TAG_FORMULA = '=HYPERLINK("http://evil.example","click")'
SERVICE = "svc-[link](javascript:alert(4))-**bold**-|col|"
ERROR_CODE = "Evil\x1b[2J<b>Code</b>"
ERROR_MESSAGE = f"=cmd|'/C calc'!A0 {ESC} {HTML} [x](http://evil.example)"


@dataclass
class Scan:
    run: Run
    out: Path
    report: dict[str, Any]
    proxy: FaultProxy
    seconds: float

    @property
    def findings(self) -> list[dict[str, Any]]:
        # Read through the project's loader: report.json's encoding (schema 2 groups what findings
        # share) is its business; the tests look at findings.
        return [f.model_dump(mode="json") for f in load_report(self.out / "report.json", "report").findings]


def _key(f: dict[str, Any]) -> tuple:
    return (f["check_id"], f["account_id"], f["region"], f["resource"]["arn"], f.get("container"))


def _seed_hostile(moto_server: MotoServer) -> None:
    ecs = moto_server.client("ecs", HOSTILE_REGION)
    ecs.create_cluster(clusterName=CLUSTER, tags=[{"key": "Owner", "value": TAG_FORMULA}, {"key": "@team", "value": "+1-555"}])
    ecs.register_task_definition(
        family=FAMILY,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": CONTAINER,
                "image": IMAGE,
                "memory": 512,
                "privileged": True,
                "environment": [
                    {"name": SECRET_ENV, "value": "hunter2-correct-horse-battery"},
                    {"name": ESCAPE_ENV, "value": "tok_live_0123456789abcdefghij"},
                ],
            }
        ],
        tags=[{"key": "Version", "value": "-1+1"}],
    )
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=FAMILY, desiredCount=1, launchType="FARGATE")


@pytest.fixture(scope="module")
def account(moto_server: MotoServer) -> SeededAccount:
    seeded = seed_mixed_estate(moto_server)
    _seed_hostile(moto_server)
    return seeded


def _proxy(moto_server: MotoServer, account: SeededAccount, *faults: tuple[Any, Any, str]) -> FaultProxy:
    """A proxy with `faults` (what, fault, name) first, so they also hit the operations the enrichment
    answers itself."""
    proxy = FaultProxy(moto_server.url, caller_arn=account.caller_arn).start()
    for what, fault, name in faults:
        proxy.add_fault(what, fault, name=name)
    install_enrichment(proxy, account.facts)
    return proxy


def _env(account: SeededAccount, work: Path, endpoint: str, **extra: str) -> dict[str, str]:
    return aws_env(work / "home", endpoint, AWS_ACCESS_KEY_ID=account.access_key_id, AWS_SECRET_ACCESS_KEY=account.secret_access_key, **extra)


@dataclass
class Started:
    process: subprocess.Popen[str]
    args: list[str]
    out: Path
    proxy: FaultProxy
    started: float


def _start(account: SeededAccount, proxy: FaultProxy, work: Path, *args: str, env: dict[str, str] | None = None, out: Path | None = None) -> Started:
    out = out or work / "report"
    argv = ["scan", "-o", str(out), *args]
    if "--region" not in args:
        argv[1:1] = ["--region", HOME]
    process = subprocess.Popen(
        [str(cli_path()), *argv], env=_env(account, work, proxy.url, **(env or {})), cwd=str(work),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return Started(process, argv, out, proxy, time.monotonic())


def _finish(started: Started) -> Scan:
    stdout, stderr = started.process.communicate(timeout=300)
    seconds = time.monotonic() - started.started
    report_path = started.out / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    started.proxy.stop()
    return Scan(Run(started.args, started.process.returncode, stdout, stderr), started.out, report, started.proxy, seconds)


@pytest.fixture(scope="module")
def scans(moto_server: MotoServer, account: SeededAccount, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scan]:
    every_call = lambda call: True  # noqa: E731
    started: dict[str, Started] = {}

    def start(name: str, faults: list[tuple[Any, Any, str]], *args: str, env: dict[str, str] | None = None, rewriters: dict[str, Any] | None = None) -> None:
        proxy = _proxy(moto_server, account, *faults)
        for action, rewriter in (rewriters or {}).items():
            proxy.add_rewriter(action, rewriter, name=f"malformed {action}")
        started[name] = _start(account, proxy, tmp_path_factory.mktemp(name), *args, env=env)

    # The slowest first: they wait on backoff and timeouts while the others run. (Throttled, botocore's
    # adaptive mode slows the client down: about 40 s alone, where a clean scan takes 7.)
    start("throttled", [(every_call, throttle_every(5), "throttle"), (every_call, server_error_every(100, 503), "503")], "--format", "json")
    start(
        "regions",
        [
            (in_region(SLOW), delay(25), "timeout"),
            (in_region(REFUSING), drop_connection(), "refuse"),
            (in_region(DENIED), denied(account.caller_arn), "deny"),
        ],
        "--region", HOME, "--region", SLOW, "--region", REFUSING, "--region", DENIED, "--format", "json",
        env=FAST_FAILURE,
    )  # fmt: skip
    start("clean", [], "--format", "json")
    start("malformed", [], "--format", "json", rewriters=MALFORMED)
    start("expiring", [(every_call, expire_credentials_after(EXPIRE_AFTER), "expire")], "--role-arn", ROLE, "--format", "json")
    start(
        "renewal_fails",
        [(every_call, expire_credentials_after(EXPIRE_AFTER), "expire"), ("sts:AssumeRole", after(1, denied(account.caller_arn)), "refuse renewal")],
        "--role-arn", ROLE, "--format", "json",
    )  # fmt: skip
    start("selected", [], "--region", HOSTILE_REGION, "--checks", "security,TASKDEF-001", "--skip-checks", "SECURITY-002", "--format", "json")
    start(
        "hostile",
        [("ecs:ListAccountSettings", lambda call: error_reply(call, ERROR_CODE, ERROR_MESSAGE, 400), "hostile error")],
        "--region", HOSTILE_REGION, "--format", "html,md,json,sarif,junit,csv", "-v",
    )  # fmt: skip
    return {name: _finish(one) for name, one in started.items()}


def _without_time(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


def _assert_ran(scan: Scan, codes: tuple[int, ...] = (0,)) -> None:
    assert scan.run.returncode in codes, scan.run
    assert "Traceback" not in scan.run.stderr, scan.run
    assert scan.report, scan.run


# --- throttling and 503s -------------------------------------------------------------------------


def test_throttling_and_503s_leave_the_report_unchanged(scans: dict[str, Scan]) -> None:
    clean, throttled = scans["clean"], scans["throttled"]
    _assert_ran(clean)
    _assert_ran(throttled)
    injected = [c.injected for c in throttled.proxy.calls if c.injected]
    assert injected.count("throttle") >= 10 and injected.count("503") >= 1, injected
    assert {c.status for c in throttled.proxy.calls if c.injected == "503"} == {503}
    assert clean.report["errors"] == [] and throttled.report["errors"] == []
    assert _without_time(throttled.report) == _without_time(clean.report)


# --- malformed answers ---------------------------------------------------------------------------


def test_malformed_answers_are_recorded_never_a_crash(scans: dict[str, Scan]) -> None:
    scan = scans["malformed"]
    _assert_ran(scan)
    broken = {(e["permission"], e["error_code"]) for e in scan.report["errors"]}
    for action in MALFORMED:
        assert (action, "MalformedResponse") in broken, (action, broken)
    assert {code for _, code in broken} == {"MalformedResponse"}, broken
    assert scan.report["summary"]["checks_unknown"] > 0


def test_malformed_answers_are_never_a_pass(scans: dict[str, Scan]) -> None:
    scan, clean = scans["malformed"], scans["clean"]
    passed_before = {_key(f) for f in clean.findings if f["status"] == "PASS"}
    new_passes = [_key(f) for f in scan.findings if f["status"] == "PASS" and _key(f) not in passed_before]
    assert not new_passes
    # task definitions could not be read: none is judged, and their checks say why
    assert not [f for f in scan.findings if ":task-definition/" in f["resource"]["arn"] and f["status"] != "UNKNOWN"]
    assert [f for f in scan.findings if f["status"] == "UNKNOWN" and "ecs:DescribeTaskDefinition" in f["message"]]
    # target groups and GuardDuty: the checks that need them say so; a PASS they still give rests on
    # other evidence (e.g. a service reachable through Cloud Map) and was a PASS without the fault too
    registry = load_registry()
    target_groups = {f["resource"]["arn"] for f in clean.findings if f["resource"]["type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"}
    assert target_groups
    assert not [f for f in scan.findings if f["resource"]["arn"] in target_groups and f["status"] != "UNKNOWN"]
    for action in ("elasticloadbalancing:DescribeTargetGroups", "guardduty:GetDetector"):
        needing = {entry.id for entry in load_catalogue().checks if entry.id in registry and action in entry.needs}
        results = [f for f in scan.findings if f["check_id"] in needing]
        assert [f for f in results if f["status"] == "UNKNOWN" and action in f["message"]], action


# --- regions that time out, refuse or deny --------------------------------------------------------


def test_regions_that_time_out_refuse_or_deny_are_recorded(scans: dict[str, Scan]) -> None:
    scan = scans["regions"]
    _assert_ran(scan)
    assert scan.report["scope"]["regions"] == sorted([HOME, SLOW, REFUSING, DENIED])
    codes = {region: {e["error_code"] for e in scan.report["errors"] if e["region"] == region} for region in (HOME, SLOW, REFUSING, DENIED)}
    assert codes[HOME] == set(), codes
    assert codes[SLOW] == {"ReadTimeoutError"}, codes
    assert codes[REFUSING] <= {"ConnectionClosedError", "EndpointConnectionError"} and codes[REFUSING], codes
    assert codes[DENIED] == {"AccessDeniedException"}, codes
    listing = {e["region"] for e in scan.report["errors"] if e["permission"] == "ecs:ListClusters"}
    assert listing == {SLOW, REFUSING, DENIED}
    # an endpoint that did not answer is not asked again call after call
    assert [e for e in scan.report["errors"] if e["region"] == SLOW and e["message"].startswith("not sent")]
    assert scan.seconds < 90, scan.seconds


def test_the_rest_of_the_audit_completes_unchanged(scans: dict[str, Scan]) -> None:
    scan, clean = scans["regions"], scans["clean"]
    # The questionnaire sits on the first region in name order, which differs between the two runs.
    mine = {_key(f): f["status"] for f in scan.findings if f["region"] == HOME and f["area"] != "MANUAL"}
    expected = {_key(f): f["status"] for f in clean.findings if f["area"] != "MANUAL"}
    assert mine == expected
    for region in (SLOW, REFUSING, DENIED):
        judged = [(f["check_id"], f["status"]) for f in scan.findings if f["region"] == region and f["status"] not in ("UNKNOWN", "MANUAL")]
        assert not judged, (region, judged)
        assert [f for f in scan.findings if f["region"] == region and f["status"] == "UNKNOWN"], region


# --- assumed-role credentials that expire -------------------------------------------------------------


def test_expired_credentials_are_renewed(scans: dict[str, Scan]) -> None:
    scan, clean = scans["expiring"], scans["clean"]
    _assert_ran(scan)
    expired = [c for c in scan.proxy.calls if c.injected == "expire"]
    assert expired, "no call was answered ExpiredToken"
    assert len(scan.proxy.seen("sts:AssumeRole")) >= 2
    assert scan.report["errors"] == []
    assert scan.report["scope"]["caller_arn"].startswith("arn:aws:sts::123456789012:assumed-role/ecs-audit-e2e/")
    assert {_key(f): f["status"] for f in scan.findings} == {_key(f): f["status"] for f in clean.findings}


def test_when_renewal_fails_the_rest_is_unknown_with_that_cause(scans: dict[str, Scan]) -> None:
    scan = scans["renewal_fails"]
    _assert_ran(scan)
    errors = scan.report["errors"]
    assert errors
    assert {e["error_code"] for e in errors} <= EXPIRED_CODES, {e["error_code"] for e in errors}
    assert all("again failed" in e["message"] and "AccessDenied" in e["message"] for e in errors), errors[:3]
    unknown = [f for f in scan.findings if f["status"] == "UNKNOWN"]
    assert [f for f in unknown if "again failed" in f["message"]]
    assert scan.report["summary"]["checks_unknown"] > 0
    assert "could not be evaluated" in scan.run.stdout


# --- check selection --------------------------------------------------------------------------------


def test_checks_and_skip_checks_select_what_runs(scans: dict[str, Scan]) -> None:
    scan = scans["selected"]
    _assert_ran(scan)
    ids = {f["check_id"] for f in scan.findings}
    assert ids, scan.run
    assert {i.split("-")[0] for i in ids} == {"SECURITY", "TASKDEF", "MANUAL"}, ids
    assert "SECURITY-002" not in ids and {i for i in ids if i.startswith("TASKDEF")} == {"TASKDEF-001"}
    catalogue = load_catalogue()
    skipped = scan.report["scope"]["skipped_checks"]
    chosen = {e.id for e in catalogue.checks if e.area in ("SECURITY", "MANUAL")} | {"TASKDEF-001"}
    assert skipped == [e.id for e in catalogue.checks if not e.deprecated and (e.id not in chosen or e.id == "SECURITY-002")]
    assert "IMAGE-001" in skipped and "SECURITY-001" not in skipped
    assert f"{len(skipped)} checks skipped" in scan.run.stdout


# --- hostile content ------------------------------------------------------------------------------


def _texts(scan: Scan) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(scan.out.iterdir()) if p.is_file()}


def test_hostile_content_reaches_the_reports(scans: dict[str, Scan]) -> None:
    """The planted values are in the findings (so the checks below test something)."""
    scan = scans["hostile"]
    _assert_ran(scan)
    raw = json.dumps(scan.report)
    for value in (CLUSTER, FAMILY, CONTAINER, SECRET_ENV, IMAGE, SERVICE, ERROR_MESSAGE):
        assert json.dumps(value)[1:-1] in raw, value
    assert set(_texts(scan)) == {"report.html", "report.md", "report.json", "report.sarif", "report.junit.xml", "report.csv"}


def test_no_output_carries_control_characters(scans: dict[str, Scan]) -> None:
    scan = scans["hostile"]
    for name, text in {**_texts(scan), "stdout": scan.run.stdout, "stderr": scan.run.stderr}.items():
        controls = sorted({hex(ord(ch)) for ch in text if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F})
        assert not controls, (name, controls)
    # -v logged the hostile error, stripped of its escapes
    assert "Evil[2J<b>Code</b>" in scan.run.stderr or "Evil[2J" in scan.run.stderr, scan.run.stderr


def test_html_escapes_everything_from_the_account(scans: dict[str, Scan]) -> None:
    html = _texts(scans["hostile"])["report.html"]
    for raw in (HTML, IMG, SVG, "<b>Code</b>"):
        assert raw not in html, raw
    assert "evil&lt;svg onload=alert(3)&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html


def test_markdown_escapes_everything_from_the_account(scans: dict[str, Scan]) -> None:
    markdown = _texts(scans["hostile"])["report.md"]
    for raw in (HTML, IMG, SVG, "[link](javascript:alert(4))", "**bold**", "[x](http://evil.example)", "<b>Code</b>"):
        assert raw not in markdown, raw
    assert "evil\\<svg onload=alert(3)\\>" in markdown


def test_csv_cells_never_start_a_formula(scans: dict[str, Scan]) -> None:
    rows = list(csv.reader(io.StringIO(_texts(scans["hostile"])["report.csv"])))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert [c for c in cells if c.startswith("'-2+3")], "the container name is in a cell, defused"


def test_machine_formats_stay_valid(scans: dict[str, Scan]) -> None:
    texts = _texts(scans["hostile"])
    json.loads(texts["report.json"])
    json.loads(texts["report.sarif"])
    ET.fromstring(texts["report.junit.xml"].encode())


# --- interruption ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_scan_exits_promptly_and_leaves_the_previous_report(
    moto_server: MotoServer, account: SeededAccount, scans: dict[str, Scan], tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "report"
    out.mkdir()
    previous = {name: (scans["clean"].out / name).read_bytes() for name in ("report.json",)}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    proxy = _proxy(moto_server, account, (lambda call: True, delay(0.5), "slow"))
    try:
        started = _start(account, proxy, tmp_path, "--save-snapshot", str(out / "snap.json"), out=out)
        deadline = time.monotonic() + 60
        while len(proxy.calls) < 6 and time.monotonic() < deadline and started.process.poll() is None:
            time.sleep(0.05)
        assert started.process.poll() is None, "the scan ended before it could be interrupted"
        sent = time.monotonic()
        started.process.send_signal(signum)
        stdout, stderr = started.process.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proxy.stop()
    assert started.process.returncode == code, (stdout, stderr)
    assert took < 10, took
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"ecs-audit: interrupted by {signal.Signals(signum).name} while collecting"), lines[0]
    assert "previous report" in lines[0] and "unchanged" in lines[0], lines[0]
    assert sorted(p.name for p in out.iterdir()) == sorted(previous), list(out.iterdir())
    for name, data in previous.items():
        assert (out / name).read_bytes() == data
