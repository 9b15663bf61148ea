"""Kept runs (`--history DIR` or s3://bucket/prefix): each run's report.json and snapshot (gzip)
under runs/<run id>/, with run.json (its scores and open results) for trends, and `latest` naming
the newest run. The previous run is the baseline of the next.

Accounts that could not be scanned in a run (their role refused), and regions that could not even
list their clusters, are carried forward: their results from the last run that scanned them stand in
for them in the run's trend figures and in the next run's baseline, marked, so neither the trend nor
the new/resolved lists jump because of a night's outage."""

from __future__ import annotations

import gzip
import json
import statistics
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import ValidationError

from ecs_audit.findings import finding_key
from ecs_audit.report.diff import OPEN, Baseline, load_baseline
from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.findings import Finding, Status
from ecs_audit.inventory.errors import ApiError
from ecs_audit.report.model import Report, summarise
from ecs_audit.report.trend import Carried, FindingRef, Fixed, HistorySection, OpenAge, Regressed, TrendAccount, TrendPoint
from ecs_audit.store import Store, open_store

RUNS = "runs"
LATEST = "latest"
RECORD = "run.json"
REPORT = "report.json.gz"
SNAPSHOT = "snapshot.json.gz"
# Open results listed with their age in the report (oldest first).
AGES_SHOWN = 200


class OpenItem(FindingRef):
    key: str


class RunRecord(TrendPoint):
    tool_version: str = ""
    carried: list[Carried] = []
    open: list[OpenItem] = []


@dataclass(frozen=True)
class Prior:
    """The previous run as the next one sees it: its record and its results, carried ones included."""

    records: list[RunRecord]
    baseline: Baseline


Scope = tuple[str, str | None, str]  # account, region (None: the whole account), why


def _key(finding: Finding) -> str:
    return "\t".join(finding_key(finding))


def run_id_for(generated_at: datetime) -> str:
    return generated_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def unscanned(errors: list[ApiError], accounts: list[str]) -> list[Scope]:
    """Accounts whose role could not be assumed; regions where not even ListClusters answered."""
    out: list[Scope] = []
    blocked = set()
    for e in errors:
        if e.service == "sts" and e.operation == "AssumeRole" and e.account_id not in blocked:
            blocked.add(e.account_id)
            out.append((e.account_id, None, f"{e.error_code}: {e.message}"))
    seen = set()
    for e in errors:
        if e.operation == "ListClusters" and not e.resources and e.account_id not in blocked and (e.account_id, e.region) not in seen:
            seen.add((e.account_id, e.region))
            out.append((e.account_id, e.region, f"{e.error_code}: {e.message}"))
    return out


def in_scopes(finding: Finding, scopes: list[Scope]) -> bool:
    return any(finding.account_id == a and (r is None or finding.region == r) for a, r, _ in scopes)


class History:
    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def open(cls, location: str) -> History:
        return cls(open_store(location))

    # --- reading ------------------------------------------------------------------------------

    def run_ids(self) -> list[str]:
        return sorted({key.split("/")[1] for key in self.store.list(RUNS) if key.endswith("/" + RECORD)})

    def record(self, run_id: str) -> RunRecord:
        raw = self.store.read(f"{RUNS}/{run_id}/{RECORD}")
        if raw is None:
            raise UsageError(f"history {self.store.location}: run {run_id} has no {RECORD}")
        try:
            return RunRecord.model_validate_json(raw)
        except ValidationError:
            raise UsageError(f"history {self.store.location}: run {run_id}: {RECORD} is not valid; remove that run") from None

    def records(self) -> list[RunRecord]:
        return [self.record(run_id) for run_id in self.run_ids()]

    def latest(self) -> str | None:
        raw = self.store.read(LATEST)
        name = raw.decode("utf-8", "replace").strip() if raw else ""
        return name or None

    def baseline_of(self, run_id: str) -> Baseline:
        """A kept run's report, read with the baseline loader (the report.json schema stays its business)."""
        raw = self.store.read(f"{RUNS}/{run_id}/{REPORT}")
        if raw is None:
            raise UsageError(f"history {self.store.location}: run {run_id} has no {REPORT}")
        with tempfile.TemporaryDirectory(prefix="ecs-audit-history-") as tmp:
            path = Path(tmp) / "report.json"
            try:
                path.write_bytes(gzip.decompress(raw))
            except (OSError, EOFError):
                raise UsageError(f"history {self.store.location}: run {run_id}: {REPORT} is not gzip; remove that run") from None
            baseline = load_baseline(path)
        info = baseline.info.model_copy(update={"source": f"{self.store.location}/{RUNS}/{run_id}"})
        return Baseline(info=info, findings=baseline.findings)

    def prior(self) -> Prior | None:
        """The newest run, its carried-forward results added back."""
        records = self.records()
        if not records:
            return None
        last = records[-1]
        base = self.baseline_of(last.run_id)
        findings = list(base.findings)
        scopes_by_run: dict[str, list[Scope]] = {}
        for c in last.carried:
            scopes_by_run.setdefault(c.from_run, []).append((c.account_id, c.region, c.reason))
        for run_id, scopes in scopes_by_run.items():
            try:
                earlier = self.baseline_of(run_id)
            except UsageError:
                continue  # pruned: nothing left to carry
            findings += [f for f in earlier.findings if in_scopes(f, scopes)]
        return Prior(records=records, baseline=Baseline(info=base.info, findings=findings))

    # --- writing ------------------------------------------------------------------------------

    def new_run_id(self, generated_at: datetime) -> str:
        base = run_id_for(generated_at)
        taken = set(self.run_ids())
        run_id, n = base, 1
        while run_id in taken:
            n += 1
            run_id = f"{base}-{n}"
        return run_id

    def save(self, record: RunRecord, report_json: str, snapshot_json: str | None) -> None:
        """The run's files first, `latest` last: an interrupted save leaves the previous latest."""
        prefix = f"{RUNS}/{record.run_id}"
        self.store.write(f"{prefix}/{REPORT}", gzip.compress(report_json.encode("utf-8"), mtime=0))
        if snapshot_json is not None:
            self.store.write(f"{prefix}/{SNAPSHOT}", gzip.compress(snapshot_json.encode("utf-8"), mtime=0))
        self.store.write(f"{prefix}/{RECORD}", record.model_dump_json(indent=1).encode("utf-8"))
        self.store.write(LATEST, (record.run_id + "\n").encode("utf-8"))

    def prune(self, keep: int | None, keep_days: int | None, now: datetime) -> list[str]:
        """Remove runs beyond the newest `keep` and older than `keep_days`; the newest run always stays."""
        records = self.records()
        doomed: set[str] = set()
        if keep is not None:
            doomed |= {r.run_id for r in records[: max(len(records) - max(keep, 1), 0)]}
        if keep_days is not None:
            cutoff = now - timedelta(days=keep_days)
            doomed |= {r.run_id for r in records[:-1] if r.generated_at < cutoff}
        for run_id in sorted(doomed):
            for key in self.store.list(f"{RUNS}/{run_id}"):
                self.store.delete(key)
        return sorted(doomed)


# --- one run's record and the report's history section ---------------------------------------


def make_record(run_id: str, report: Report, carried: list[Finding], scopes: list[Scope], prior: Prior | None,
                catalogue: Catalogue) -> RunRecord:
    """Scores over this run's results plus what was carried forward for the scopes not scanned."""
    effective = list(report.findings) + carried
    accounts = sorted(set(report.scope.accounts) | {f.account_id for f in carried})
    summary = summarise(effective, catalogue, [], accounts)
    previous = prior.records[-1] if prior else None
    previous_carry = {(c.account_id, c.region): c.from_run for c in previous.carried} if previous else {}
    carried_notes = [
        Carried(account_id=a, region=r, from_run=previous_carry.get((a, r), previous.run_id), reason=why)
        for a, r, why in scopes
    ] if previous else []
    carried_accounts = {c.account_id: c.from_run for c in carried_notes if c.region is None}
    open_items = [
        OpenItem(
            key=_key(f), check_id=f.check_id, status=f.status.value, severity=f.severity.value, account_id=f.account_id,
            region=f.region, resource=f.resource.name, container=f.container,
        )
        for f in effective
        if f.status in OPEN
    ]
    return RunRecord(
        run_id=run_id,
        generated_at=report.generated_at,
        tool_version=report.tool.version,
        score=summary.score,
        areas={a.area: a.score for a in summary.areas},
        accounts=[TrendAccount(account_id=a.account_id, score=a.score, carried_from=carried_accounts.get(a.account_id)) for a in summary.accounts],
        open_fail=sum(1 for f in effective if f.status is Status.FAIL),
        open_warn=sum(1 for f in effective if f.status is Status.WARN),
        carried=carried_notes,
        open=open_items,
    )


def _point(record: RunRecord) -> TrendPoint:
    return TrendPoint.model_validate(record.model_dump(include=set(TrendPoint.model_fields)))


def history_section(records: list[RunRecord], current: RunRecord) -> HistorySection:
    runs = records + [current]
    open_by_run = [{item.key: item for item in run.open} for run in runs]
    start: dict[str, datetime] = {}
    fixes: list[float] = []
    fixed_now: list[Fixed] = []
    for index, run in enumerate(runs):
        now_open = open_by_run[index]
        if index > 0:
            for key, began in start.items():
                if key not in now_open:
                    days = (run.generated_at - began).total_seconds() / 86400
                    fixes.append(days)
                    if run is current:
                        item = open_by_run[index - 1][key]
                        fixed_now.append(Fixed(check_id=item.check_id, account_id=item.account_id, resource=item.resource, days=round(days, 2)))
        start = {key: start.get(key, run.generated_at) for key in now_open}
    regressed: list[Regressed] = []
    if len(runs) > 1:
        before = open_by_run[-2]
        for item in current.open:
            last = before.get(item.key)
            if last is not None:
                if last.status == Status.WARN.value and item.status == Status.FAIL.value:
                    regressed.append(_regressed(item, runs[-2].run_id))
                continue
            for index in range(len(runs) - 3, -1, -1):
                if item.key in open_by_run[index]:
                    regressed.append(_regressed(item, runs[index].run_id))
                    break
    ages = sorted(
        (
            OpenAge(
                check_id=i.check_id, status=i.status, severity=i.severity, account_id=i.account_id, region=i.region,
                resource=i.resource, container=i.container, first_seen=start[i.key],
                age_days=int((current.generated_at - start[i.key]).total_seconds() // 86400),
            )
            for i in current.open
        ),
        key=lambda a: (a.first_seen, a.check_id, a.account_id, a.resource),
    )
    return HistorySection(
        run_id=current.run_id,
        previous_run=runs[-2].run_id if len(runs) > 1 else None,
        trend=[_point(r) for r in runs],
        carried=current.carried,
        regressed=regressed,
        open_ages=ages[:AGES_SHOWN],
        fixed_count=len(fixes),
        median_days_to_fix=round(statistics.median(fixes), 2) if fixes else None,
        fixed_now=fixed_now,
    )


def _regressed(item: OpenItem, last_open_run: str) -> Regressed:
    return Regressed(
        check_id=item.check_id, status=item.status, severity=item.severity, account_id=item.account_id, region=item.region,
        resource=item.resource, container=item.container, last_open_run=last_open_run,
    )


def trend_text(records: list[RunRecord]) -> str:
    """`ecs-audit history`: one line per run."""
    if not records:
        return "no runs kept yet\n"
    lines = []
    for r in records:
        score = "n/a" if r.score is None else f"{r.score:>3}"
        carried = sum(1 for a in r.accounts if a.carried_from)
        note = f"  ({carried} account(s) carried forward)" if carried else ""
        regions = sum(1 for c in r.carried if c.region is not None)
        note += f"  ({regions} region(s) carried forward)" if regions else ""
        lines.append(f"{r.run_id}  {r.generated_at.isoformat()}  score {score}  FAIL {r.open_fail:>4}  WARN {r.open_warn:>4}{note}")
    return "\n".join(lines) + "\n"


def trend_json(records: list[RunRecord]) -> str:
    return json.dumps([_point(r).model_dump(mode="json") for r in records], indent=2) + "\n"
