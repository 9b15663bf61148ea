"""--checks and --skip-checks: which checks a run evaluates.

Both options take check ids (SECURITY-002) and area names (SECURITY, case-insensitive), repeatable or
comma-separated. `--checks` keeps only what it names, `--skip-checks` then removes what it names.
The MANUAL questionnaire stays in the report unless MANUAL questions are named: `--checks SECURITY`
still lists the open questions; `--skip-checks MANUAL` (or `--checks MANUAL-004`) decides otherwise.
Reports list the checks that were skipped, and a baseline's results for skipped checks are not
counted as resolved. Collection also leaves out the optional per-resource calls that only skipped
checks need (`needed_actions`); the snapshot lists them as not collected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ecs_audit.catalogue import Catalogue
from ecs_audit.errors import UsageError
from ecs_audit.text import plain

MANUAL_AREA = "MANUAL"


@dataclass(frozen=True)
class Selection:
    checks: frozenset[str]
    # Catalogue ids left out (deprecated ones aside), in catalogue order.
    skipped: tuple[str, ...]

    def __contains__(self, check_id: object) -> bool:
        return check_id in self.checks


def needed_actions(selection: Selection | None, catalogue: Catalogue) -> frozenset[str] | None:
    """The IAM actions the selected checks need (their catalogue `needs`): collection leaves out the
    optional calls none of them needs. None when every check runs."""
    if selection is None:
        return None
    return frozenset(action for entry in catalogue.checks if entry.id in selection for action in entry.needs)


def parse_selection(checks: list[str] | None, skip: list[str] | None, catalogue: Catalogue) -> Selection | None:
    """The selected check ids, or None when neither option is given (every check runs)."""
    if not checks and not skip:
        return None
    manual = {entry.id for entry in catalogue.checks if not entry.automated}
    everything = {entry.id for entry in catalogue.checks}
    if checks:
        chosen = _expand("--checks", checks, catalogue)
        if not chosen & manual:
            chosen |= manual  # the questionnaire stays unless MANUAL questions are named
    else:
        chosen = set(everything)
    if skip:
        chosen -= _expand("--skip-checks", skip, catalogue)
    live = {entry.id for entry in catalogue.checks if not entry.deprecated}
    if not chosen & live:
        raise UsageError("--checks / --skip-checks: no check is left to run; name fewer in --skip-checks (see `ecs-audit checks`)")
    skipped = tuple(entry.id for entry in catalogue.checks if entry.id not in chosen and not entry.deprecated)
    return Selection(checks=frozenset(chosen), skipped=skipped)


def _expand(option: str, values: list[str], catalogue: Catalogue) -> set[str]:
    ids = {entry.id for entry in catalogue.checks}
    areas = {area.area: {entry.id for entry in area.checks} for area in catalogue.areas}
    chosen: set[str] = set()
    tokens = [token.strip() for value in values for token in value.split(",")]
    if not any(tokens):
        raise UsageError(f"{option}: no check id or area given; e.g. {option} SECURITY,TASKDEF-001")
    for token in tokens:
        if not token:
            continue
        name = token.upper()
        if name in areas:
            chosen |= areas[name]
        elif name in ids:
            chosen.add(name)
        else:
            close = difflib.get_close_matches(name, sorted(ids | set(areas)), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(
                f"{option} {plain(token)!r}: not a check id or area; {hint}"
                f"areas are {', '.join(sorted(areas))}; `ecs-audit checks` lists the ids"
            )
    return chosen
