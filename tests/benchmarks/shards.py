"""One process against N shard processes plus a merge, over a moto organisation of small accounts.

    .venv/bin/python -m tests.benchmarks.shards                    # 120 accounts, 4 shards (about 5 minutes here)
    .venv/bin/python -m tests.benchmarks.shards --accounts 60 --shards 3
    .venv/bin/python -m tests.benchmarks.shards --smoke            # 12 accounts, 3 shards (seconds)

Prints figures, asserts nothing about time: wall time of the single run, of the slowest shard (the
shards run at once) and of the merge; peak RSS of every process; API calls of each (one recording
proxy per process); and whether the merged report equals the single run's. Every process shares one
moto server in this process, on a machine of few cores: the shards' wall time here shows the
overhead of splitting, not the speed-up that separate Fargate tasks against AWS give (see
docs/deployment.md for that estimate).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.run import _LAUNCHER
from tests.support.moto_server import MotoServer
from tests.support.org import ROLE, build_org
from tests.support.proxy import FaultProxy, api_reply

REGION = "us-east-1"
EPOCH = "1767225600"


@dataclass
class ProcessRun:
    label: str
    returncode: int
    wall_s: float
    max_rss_mb: float
    calls: int
    stderr: str


def _env(home: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home), AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION, SOURCE_DATE_EPOCH=EPOCH,
    )  # fmt: skip
    return env


def _cli() -> str:
    return str(Path(sys.executable).parent / "ecs-audit")


def _start(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen, float, Path]:
    # The launcher of tests/benchmarks/run.py: this process holds moto, and Linux carries the peak RSS
    # across fork and exec, so the CLI is forked by a small launcher that reports the CLI's own peak.
    rss = cwd / f"rss-{len(list(cwd.glob('rss-*')))}"
    process = subprocess.Popen(
        [sys.executable, "-S", "-c", _LAUNCHER, str(rss), _cli(), *args],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return process, time.monotonic(), rss


def _finish(label: str, started: tuple[subprocess.Popen, float, Path], proxy: FaultProxy | None) -> ProcessRun:
    process, t0, rss = started
    _, stderr = process.communicate()
    wall = time.monotonic() - t0
    return ProcessRun(label, process.returncode, wall, int(rss.read_text()) / 1024, len(proxy.calls) if proxy else 0, stderr)


def _proxy(upstream: str, caller: str) -> FaultProxy:
    """A recording proxy that answers what moto has no handler for (Compute Optimizer) as an account
    with nothing to recommend would."""
    proxy = FaultProxy(upstream, caller_arn=caller)
    proxy.add_fault("compute-optimizer:GetECSServiceRecommendations", lambda call: api_reply(call, {"ecsServiceRecommendations": []}))
    return proxy


def _scan_args(out: Path, *extra: str) -> list[str]:
    return ["scan", "--org-role-name", ROLE, "--region", REGION, "-o", str(out), "--format", "json", "--quiet", *extra]


def run(accounts: int, shards: int, work: Path) -> tuple[list[ProcessRun], bool]:
    with MotoServer() as moto:
        # Every account's first STS or IAM call would load AWS's managed policies into moto (seconds
        # each); these accounts' task definitions name no roles, so none are needed.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        started = time.monotonic()
        names = tuple(f"team-{i:04d}" for i in range(accounts))
        management, _ = build_org(moto, names, regions=(REGION,))
        print(f"seeded {accounts} member accounts (+ the management account) in {time.monotonic() - started:.1f} s", flush=True)
        caller = f"arn:aws:iam::{management}:user/auditor"
        runs: list[ProcessRun] = []

        with _proxy(moto.url, caller) as proxy:
            runs.append(_finish("single", _start(_scan_args(work / "single"), _env(work / "home-single", proxy.url), work), proxy))

        proxies = [_proxy(moto.url, caller).start() for _ in range(shards)]
        try:
            started_all = [
                _start(_scan_args(work / f"shard-{i}", "--shard", f"{i}/{shards}", "--save-snapshot", str(work / "snapshots" / f"{i}.json")),
                       _env(work / f"home-{i}", proxies[i - 1].url), work)
                for i in range(1, shards + 1)
            ]  # fmt: skip
            # waited for at once, so that each shard's wall time is its own
            with ThreadPoolExecutor(shards) as pool:
                runs.extend(pool.map(lambda i: _finish(f"shard {i}/{shards}", started_all[i - 1], proxies[i - 1]), range(1, shards + 1)))
        finally:
            for proxy in proxies:
                proxy.stop()
        merge_args = ["merge", str(work / "snapshots"), "-o", str(work / "merged"), "--format", "json", "--quiet"]
        runs.append(_finish("merge", _start(merge_args, _env(work / "home-merge", "http://127.0.0.1:9"), work), None))

    same = False
    single, merged = work / "single" / "report.json", work / "merged" / "report.json"
    if single.is_file() and merged.is_file():
        same = json.loads(single.read_text()) == json.loads(merged.read_text())
    return runs, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.shards", description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=120)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="12 accounts, 3 shards")
    options = parser.parse_args(argv)
    accounts, shards = (12, 3) if options.smoke else (options.accounts, options.shards)
    with tempfile.TemporaryDirectory(prefix="ecs-audit-shards-") as tmp:
        runs, same = run(accounts, shards, Path(tmp))
    print(f"\n{accounts + 1} accounts (1 region each), {shards} shards; cores: {os.cpu_count()}")
    print(f"{'process':<14} {'exit':>4} {'wall s':>8} {'peak MiB':>9} {'API calls':>10}")
    for r in runs:
        print(f"{r.label:<14} {r.returncode:>4} {r.wall_s:>8.1f} {r.max_rss_mb:>9.0f} {r.calls:>10}")
    single = runs[0]
    shard_runs = [r for r in runs if r.label.startswith("shard")]
    merge = runs[-1]
    sharded_wall = max(r.wall_s for r in shard_runs) + merge.wall_s
    print(f"\nsingle run: {single.wall_s:.1f} s, {single.calls} calls, peak {single.max_rss_mb:.0f} MiB")
    print(
        f"sharded: {sharded_wall:.1f} s (slowest shard + merge), {sum(r.calls for r in shard_runs)} calls "
        f"({sum(r.calls for r in shard_runs) - single.calls:+d}: each shard lists the organisation and assumes its own roles), "
        f"peak {max(r.max_rss_mb for r in shard_runs):.0f} MiB per shard, merge peak {merge.max_rss_mb:.0f} MiB"
    )
    print(f"merged report identical to the single run's: {'yes' if same else 'NO'}")
    failed = [r for r in runs if r.returncode != 0]
    for r in failed:
        print(f"{r.label} failed:\n{r.stderr[-2000:]}", file=sys.stderr)
    return 1 if failed or not same else 0


if __name__ == "__main__":
    sys.exit(main())
