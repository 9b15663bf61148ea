"""The catalogue data (checks/*.yaml) against the public contract, docs/CHECKLIST.md.

The checklist's ids, titles, severities, scopes and cross-references are the contract; the catalogue
must carry exactly those ids, agree with the tables, and cite every cross-reference the refs column
names.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from ecs_audit.catalogue import Catalogue, load_catalogue

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = REPO_ROOT / "docs" / "CHECKLIST.md"
SHARED_CHECKLIST = REPO_ROOT.parent / "shared" / "CHECKLIST.md"

# Prefixes of the refs column and the Reference.source they map to.
PREFIXED_SOURCES = {"SH": "Security Hub", "Config": "AWS Config", "Prowler": "Prowler"}
# Tokens that name a source without an id of their own.
SOURCE_ONLY = {"Trusted Advisor": "Trusted Advisor", "Compute Optimizer": "Compute Optimizer"}


@lru_cache(maxsize=1)
def checklist_rows() -> dict[str, dict[str, str]]:
    """Every row of every checklist table whose first column is `id`, keyed by id."""
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in CHECKLIST.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the |---|---| separator
        if header[0] != "id":
            continue  # e.g. the results table
        assert len(cells) == len(header), f"malformed table row: {line}"
        row = dict(zip(header, cells))
        assert row["id"] not in rows, f"{row['id']} appears twice in CHECKLIST.md"
        rows[row["id"]] = row
    return rows


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return load_catalogue()


def automated_ids() -> list[str]:
    return sorted(i for i, row in checklist_rows().items() if "question" not in row)


def manual_ids() -> list[str]:
    return sorted(i for i, row in checklist_rows().items() if "question" in row)


def expected_cross_refs(cell: str) -> list[tuple[str, str | None]]:
    """Split a refs cell on ';' and ',' into (source, id); id None means 'any id of that source'.

    A token without a prefix continues the previous one ("SH ECS.20, ECS.21"); a parenthesised
    remark ("(hard limit part)") is not part of the id.
    """
    expected: list[tuple[str, str | None]] = []
    source: str | None = None
    for part in cell.split(";"):
        for raw in part.split(","):
            token = re.sub(r"\([^)]*\)", "", raw).strip()
            if not token:
                continue
            if token.startswith("CKV_AWS_"):
                source = "Checkov"
                expected.append((source, token))
                continue
            only = next((src for prefix, src in SOURCE_ONLY.items() if token.startswith(prefix)), None)
            if only:
                source = None
                expected.append((only, None))
                continue
            head, _, rest = token.partition(" ")
            if head in PREFIXED_SOURCES and rest.strip():
                source = PREFIXED_SOURCES[head]
                expected.append((source, rest.strip()))
                continue
            assert source is not None, f"cannot attribute cross-reference {token!r} in {cell!r}"
            expected.append((source, token))
    return expected


def test_checklist_copy_matches_shared() -> None:
    assert CHECKLIST.is_file(), "docs/CHECKLIST.md is missing"
    if SHARED_CHECKLIST.is_file():
        assert CHECKLIST.read_bytes() == SHARED_CHECKLIST.read_bytes(), (
            "docs/CHECKLIST.md differs from ../shared/CHECKLIST.md; copy it again byte for byte"
        )


def test_catalogue_loads_and_validates() -> None:
    cat = catalogue()
    assert cat.checks, "the catalogue is empty"
    assert cat.area_names == [
        "CICD", "TASKDEF", "IMAGE", "SECURITY", "NETWORK", "STORAGE",
        "OBSERVABILITY", "RESILIENCE", "CLUSTER", "TAGGING", "MANUAL",
    ]


def test_each_area_file_is_named_after_its_area() -> None:
    checks_dir = REPO_ROOT / "checks"
    names = sorted(path.stem for path in checks_dir.glob("*.yaml"))
    assert names == sorted(area.lower() for area in catalogue().area_names)


def test_catalogue_ids_equal_checklist_ids() -> None:
    ids = [entry.id for entry in catalogue().checks]
    assert len(ids) == len(set(ids)), "duplicate ids in the catalogue"
    checklist = set(checklist_rows())
    assert set(ids) - checklist == set(), "catalogue ids missing from CHECKLIST.md"
    assert checklist - set(ids) == set(), "CHECKLIST.md ids missing from the catalogue"


@pytest.mark.parametrize("check_id", automated_ids())
def test_automated_entry_agrees_with_checklist(check_id: str) -> None:
    row = checklist_rows()[check_id]
    entry = catalogue().get(check_id)
    assert entry.automated is True
    assert entry.title == row["title"]
    assert entry.severity.value == row["sev"].lower()
    # The checklist names scopes as reports show them (a target group under LB).
    assert [scope.label for scope in entry.scope] == [s.strip() for s in row["scope"].split(",")]


@pytest.mark.parametrize("check_id", manual_ids())
def test_manual_entry_is_a_questionnaire_item(check_id: str) -> None:
    row = checklist_rows()[check_id]
    entry = catalogue().get(check_id)
    assert entry.automated is False
    assert entry.title == row["question"]
    assert [scope.value for scope in entry.scope] == ["ACCOUNT"]


@pytest.mark.parametrize("check_id", automated_ids())
def test_every_cross_reference_is_cited(check_id: str) -> None:
    entry = catalogue().get(check_id)
    cited = {(ref.source, ref.id) for ref in entry.references}
    cited_sources = {ref.source for ref in entry.references}
    for source, ident in expected_cross_refs(checklist_rows()[check_id]["refs"]):
        if ident is None:
            assert source in cited_sources, f"{check_id}: no {source} reference"
        else:
            assert (source, ident) in cited, f"{check_id}: {source} {ident} is not cited"


@pytest.mark.parametrize("check_id", automated_ids())
def test_security_hub_and_config_links_point_at_the_control(check_id: str) -> None:
    for ref in catalogue().get(check_id).references:
        if ref.source == "Security Hub":
            service = ref.id.split(".")[0].lower()
            anchor = ref.id.lower().replace(".", "-")
            assert ref.url == f"https://docs.aws.amazon.com/securityhub/latest/userguide/{service}-controls.html#{anchor}"
        elif ref.source == "AWS Config":
            assert ref.url == f"https://docs.aws.amazon.com/config/latest/developerguide/{ref.id}.html"


@pytest.mark.parametrize("check_id", sorted(checklist_rows()))
def test_every_entry_links_aws_documentation(check_id: str) -> None:
    docs = [ref for ref in catalogue().get(check_id).references if ref.source == "AWS documentation"]
    assert docs, f"{check_id} has no AWS documentation link"
    for ref in docs:
        assert ref.url and ref.url.startswith("https://docs.aws.amazon.com/"), ref.url
