"""Property-based tests of every loader of user input: arbitrary text, arbitrary YAML/JSON documents and
mutations of valid files either load or raise one UsageError of one line (file, place, fix), never
another exception (which the CLI would report as an internal error, exit 3).

Loaders: --waivers, --answers, --baseline (and `diff`'s reports), `evaluate`'s snapshot, --config.
"""

from __future__ import annotations

from tests.support.report_json import read_report

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_audit.answers import load_answers
from ecs_audit.report.diff import load_baseline, load_report
from ecs_audit.catalogue import load_catalogue
from ecs_audit.config import load_config
from ecs_audit.errors import UsageError
from ecs_audit.inventory.snapshot import SCHEMA_VERSION, load_snapshot
from ecs_audit.waivers import load_waivers
from tests.support import golden_estate

CATALOGUE = load_catalogue()
# More examples for a deeper search: ECS_AUDIT_FUZZ_EXAMPLES=2000 pytest tests/unit/test_loaders_fuzz.py
FUZZ = settings(max_examples=int(os.environ.get("ECS_AUDIT_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

LOADERS: dict[str, Callable[[Path], Any]] = {
    "waivers": lambda path: load_waivers(path, CATALOGUE),
    "answers": lambda path: load_answers(path, CATALOGUE),
    "baseline": load_baseline,
    "report": lambda path: load_report(path, "new report"),
    "snapshot": load_snapshot,
    "config": lambda path: load_config(path, CATALOGUE),
}

# Values that have broken loaders elsewhere: odd types, huge numbers, control characters, markup.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "yes", "no", "n.a.", "2027-03-31", "2027-02-30", "SECURITY-001", "MANUAL-004", "*", "[", "arn:aws:ecs:*",
                     "\x1b[31m", "<script>", "=cmd()", "\n", "1.5", "-1", "9" * 40]),
)  # fmt: skip
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def _check(loader: Callable[[Path], Any], path: Path) -> None:
    try:
        loader(path)
    except UsageError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, repr(message)
        assert "Traceback" not in message


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    return path


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(data=st.one_of(st.text(max_size=300), st.binary(max_size=200)))
def test_arbitrary_bytes_and_text(tmp_path_factory, name: str, data: str | bytes) -> None:
    tmp_path = tmp_path_factory.mktemp(name)
    try:
        path = _write(tmp_path, "input", data)
    except UnicodeEncodeError:
        return  # lone surrogates cannot be written to a file
    _check(LOADERS[name], path)


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(document=DOCUMENTS, as_json=st.booleans())
def test_arbitrary_documents(tmp_path_factory, name: str, document: Any, as_json: bool) -> None:
    tmp_path = tmp_path_factory.mktemp(name)
    try:
        text = json.dumps(document, default=str) if as_json else yaml.safe_dump(document)
    except ValueError:
        return
    _check(LOADERS[name], _write(tmp_path, "input", text))


# --- mutations of valid files ---------------------------------------------------------------------


def _valid_documents(directory: Path) -> dict[str, tuple[Any, bool]]:
    """A valid document per loader, and whether it is written as JSON."""
    waivers, answers = golden_estate.write_inputs(directory)
    outcome = golden_estate.run(directory / "run", formats=("json",))
    report = read_report(directory / "run" / "current" / "report.json")
    snapshot = json.loads(golden_estate.inventory("current").model_dump_json())
    config = {"required_tags": ["Environment", "Owner"], "history_depth": 10,
              "sidecars": [{"image": "*otel*", "checks": ["SECURITY-001"], "reason": "telemetry sidecar"}]}  # fmt: skip
    assert outcome.report.findings
    return {
        "waivers": (yaml.safe_load(waivers.read_text()), False),
        "answers": (yaml.safe_load(answers.read_text()), False),
        "baseline": (report, True),
        "report": (report, True),
        "snapshot": (snapshot, True),
        "config": (config, False),
    }


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, tuple[Any, bool]]:
    documents = _valid_documents(tmp_path_factory.mktemp("valid"))
    directory = tmp_path_factory.mktemp("check")
    for name, (document, as_json) in documents.items():
        path = _write(directory, name, json.dumps(document) if as_json else yaml.safe_dump(document))
        LOADERS[name](path)  # the unmutated file loads
    return documents


def _paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside the document (dict keys and list indices)."""
    out = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document[:3]):  # a few items of long lists are enough
            out += _paths(value, (*prefix, index))
    return out


def _mutate(document: Any, path: tuple, action: str, value: Any) -> Any:
    document = copy.deepcopy(document)
    if not path:
        return value if action == "replace" else document
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    elif action == "wrap":
        parent[last] = [parent[last]]
    return document


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(pick=st.integers(min_value=0), action=st.sampled_from(["delete", "replace", "rename", "wrap"]), value=DOCUMENTS,
       cut=st.one_of(st.none(), st.integers(min_value=0)), as_other=st.booleans())  # fmt: skip
def test_mutated_valid_files(tmp_path_factory, valid, name: str, pick: int, action: str, value: Any, cut: int | None, as_other: bool) -> None:
    document, as_json = valid[name]
    paths = _paths(document)
    mutated = _mutate(document, paths[pick % len(paths)], action, value)
    try:
        text = json.dumps(mutated, default=str) if as_json != as_other else yaml.safe_dump(mutated)
    except ValueError:
        return
    if cut is not None:
        text = text[: cut % (len(text) + 1)]  # cut short
    _check(LOADERS[name], _write(tmp_path_factory.mktemp(name), "input", text))


def test_a_snapshot_from_a_newer_schema_says_so(tmp_path, valid) -> None:
    document = dict(valid["snapshot"][0], schema_version=99)
    path = _write(tmp_path, "snap.json", json.dumps(document))
    with pytest.raises(UsageError, match=rf"schema version 99 is newer than this ecs-audit understands \({SCHEMA_VERSION}\); upgrade ecs-audit"):
        load_snapshot(path)
