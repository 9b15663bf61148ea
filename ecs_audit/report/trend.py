"""The report's history section (with --history): the trend over the kept runs, what changed since
the previous run, how long open findings have been open and how long fixes took."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrendAccount(_Model):
    account_id: str
    score: int | None
    # The run whose results stand in for this account (it could not be scanned in this run); None when scanned.
    carried_from: str | None = None


class TrendPoint(_Model):
    """One kept run. Scores include what was carried forward for accounts and regions not scanned."""

    run_id: str
    generated_at: datetime
    score: int | None
    areas: dict[str, int | None] = {}
    accounts: list[TrendAccount] = []
    open_fail: int = 0
    open_warn: int = 0


class Carried(_Model):
    """An account (region None) or an account's region not scanned in this run: its results come from `from_run`."""

    account_id: str
    region: str | None = None
    from_run: str
    reason: str = ""


class FindingRef(_Model):
    """Which result, as history keeps it: check, status and severity, where, which resource and container."""

    check_id: str
    status: str
    severity: str
    account_id: str
    region: str
    resource: str
    container: str | None = None


class OpenAge(FindingRef):
    first_seen: datetime
    age_days: int


class Regressed(FindingRef):
    """Open now, and not open in the previous run, but open in an earlier one (came back), or WARN
    in the previous run and FAIL now."""

    last_open_run: str


class Fixed(_Model):
    check_id: str
    account_id: str
    resource: str
    days: float


class HistorySection(_Model):
    run_id: str
    previous_run: str | None = None
    trend: list[TrendPoint] = []
    carried: list[Carried] = []
    regressed: list[Regressed] = []
    open_ages: list[OpenAge] = []
    # Fixes seen over the kept history (a FAIL/WARN result that went away): count and median days.
    fixed_count: int = 0
    median_days_to_fix: float | None = None
    # Resolved since the previous run, with how long each had been open.
    fixed_now: list[Fixed] = []
