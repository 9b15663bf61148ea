"""Scan a moto server through the fault proxy, and judge a scan with one call denied against the clean one.

Each area's end-to-end file (tests/e2e/test_{identity,network,images,monitoring}_moto.py) seeds its own
estate, scans it clean and once per denied action; `assert_denial_confined` holds the rule they share:
the expected results turn UNKNOWN naming the permission, whatever else changed turned UNKNOWN naming it in
a check allowed to read it, and the denial is recorded as an access error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Run, aws_env, run_cli
from tests.support.moto_server import MotoServer
from tests.support.proxy import Call, FaultProxy
from tests.support.report_json import read_report

ACCESS_DENIED = ("AccessDenied", "AccessDeniedException")


@dataclass
class Scan:
    run: Run
    report: dict[str, Any]
    calls: list[Call]


def scan_through_proxy(
    moto_url: str,
    account_id: str,
    work: Path,
    regions: Iterable[str],
    denied: Iterable[str] = (),
    *,
    prepare: Callable[[FaultProxy], None] | None = None,
    deny_first: bool = False,
    env: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
) -> Scan:
    """`ecs-audit scan` of `regions` through a fresh fault proxy in front of moto, with `denied` actions
    refused. `prepare` installs the file's own rewrites and stubs on the proxy, after the denials when
    `deny_first` (the first fault that answers wins). `extra`: more scan arguments."""
    denied = tuple(denied)
    proxy = FaultProxy(moto_url, caller_arn=f"arn:aws:iam::{account_id}:user/ecs-audit-e2e").start()
    try:
        if denied and deny_first:
            proxy.deny(*denied)
        if prepare:
            prepare(proxy)
        if denied and not deny_first:
            proxy.deny(*denied)
        out = work / "report"
        args = ["scan", *(arg for region in regions for arg in ("--region", region)), "-o", str(out), "-q", *extra]
        run = run_cli(args, aws_env(work / "home", proxy.url, **dict(env or {})), cwd=work)
        report = read_report(out / "report.json") if (out / "report.json").exists() else {}
        return Scan(run, report, list(proxy.calls))
    finally:
        proxy.stop()


def denied_scans(denials: Mapping[str, Any], scan: Callable[[MotoServer, Any, Path, str], Scan]) -> Any:
    """A module-scoped fixture `denied`: (action, the scan with that action denied), once per action in
    `denials`; it uses the file's `moto_server` and `estate` fixtures and its `scan(moto, estate, work,
    action)`."""

    @pytest.fixture(scope="module", params=sorted(denials))
    def denied(request: pytest.FixtureRequest, moto_server: MotoServer, estate: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Scan]]:
        action = request.param
        yield action, scan(moto_server, estate, tmp_path_factory.mktemp("denied"), action)

    return denied


def finding_key(finding: Mapping[str, Any]) -> tuple[Any, ...]:
    return (finding["check_id"], finding["region"], finding["resource"]["arn"], finding.get("container"))


def assert_denial_confined(
    action: str,
    scan: Scan,
    clean: Scan,
    expected: Mapping[Any, list[dict[str, Any]]],
    may_change: Collection[str],
    *,
    error_codes: Collection[str] = ACCESS_DENIED,
    count_new: bool = False,
) -> None:
    """`scan` ran with `action` denied. `expected` maps a label (for the message) to the results that must be
    exactly one UNKNOWN naming `action`; every result whose status differs from `clean` (and, with
    `count_new`, every result `clean` did not have) must be an UNKNOWN naming `action` in a check of
    `may_change`; and the denial is recorded as an error with one of `error_codes`."""
    assert scan.run.returncode == 0, scan.run
    assert [c for c in scan.calls if c.action == action and c.injected], f"{action} was never called"
    for label, results in expected.items():
        assert [f["status"] for f in results] == ["UNKNOWN"], (action, label, [(f["status"], f["message"]) for f in results])
        assert action in results[0]["message"], results[0]["message"]
    before = {finding_key(f): f for f in clean.report["findings"]}
    changed = [
        (finding_key(f), before[finding_key(f)]["status"] if finding_key(f) in before else None, f["status"], f["message"])
        for f in scan.report["findings"]
        if (finding_key(f) in before and before[finding_key(f)]["status"] != f["status"]) or (count_new and finding_key(f) not in before)
    ]
    assert changed, "nothing changed"
    wrong = [c for c in changed if c[0][0] not in may_change or c[2] != "UNKNOWN" or action not in c[3]]
    assert not wrong, wrong
    errors = [e for e in scan.report["errors"] if e["permission"] == action]
    assert errors and all(e["error_code"] in error_codes for e in errors), scan.report["errors"]
