"""The benchmark's smoke run, as `python -m tests.benchmarks --smoke` makes it: the same seeding, proxy,
CLI and minimum-call model as the full run, on a small estate. Its exit status must be 0: it judges
what does not depend on the estate's size (every call the audit makes is one the minimum model
counts, within 5%; the report is complete; the CLI stays small; against AWS-style token buckets the
audit paces itself and is never throttled; replayed scans report what moto's did). Wall-time targets
are the full benchmark's (docs/performance.md): a small estate is all dependency chain and no volume,
so --smoke prints them without judging them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.estate import SMOKE
from tests.benchmarks.minimum import minimum_calls
from tests.benchmarks.run import MAX_CALL_RATIO, MAX_RSS_MB, SMOKE_SHARE, benchmark_main, report_summary

pytestmark = pytest.mark.e2e


def test_a_small_estate_is_audited_with_close_to_the_fewest_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, plan, runs = benchmark_main(["--smoke", "--keep", str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert plan.shape == SMOKE and "not judged: wall-time targets are the full estate's" in printed
    assert all(run.returncode == 0 for run in runs), [run.stderr[-2000:] for run in runs]
    *runs, limited = runs
    assert limited.throttled is not None and all(run.throttled is None for run in runs)
    minimum = minimum_calls(plan)
    for run in runs:
        extra = {op: (n, minimum.get(op, 0)) for op, n in run.calls.items() if n > minimum.get(op, 0)}
        assert run.total <= MAX_CALL_RATIO * sum(minimum.values()), extra
        assert not set(run.calls) - set(minimum), "operations the model does not expect"
        assert run.max_rss_mb <= MAX_RSS_MB
        # The critical path, derived from the recorded calls, runs from a call that needs nothing (the
        # clusters, or the caller's account id that every ARN the audit builds carries) through the
        # services to what they reference (task definitions, or load balancers and their groups:
        # whichever chain the timing made longest).
        chain = [e.action for e in run.path]
        assert chain[0] in {"ecs:ListClusters", "sts:GetCallerIdentity"}, chain
        assert "ecs:DescribeServices" in chain and len(chain) >= 5, chain
    summary = report_summary(runs[0].out)
    assert summary is not None
    findings, errors = summary
    assert errors == 0 and sum(findings.values()) > 1000

    # Rate-limited: the proxy's AWS-style buckets never had to throttle, because the audit paced
    # itself to its share of them; so it cannot have finished sooner than its pacing allows, and it
    # reported exactly what the unlimited scan did.
    assert limited.throttled == 0
    paced, bucket = limited.paced_bound(SMOKE_SHARE)
    assert paced > 1.0, bucket
    assert limited.wall >= paced
    assert (limited.out / "report.json").read_bytes() == (runs[0].out / "report.json").read_bytes()
