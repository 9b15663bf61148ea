"""Bad input from the user: one line on stderr that says what is wrong, where, and how to fix it; exit
code 2; no traceback; nothing written and nothing sent. One case per kind of input (the loaders' finer
cases are in test_waivers, test_answers, test_baseline, test_selection; random ones in test_loaders_fuzz)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_audit.cli import main
from ecs_audit.inventory.snapshot import SCHEMA_VERSION, save_snapshot
from tests.support import golden_estate


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "snap.json"
    save_snapshot(golden_estate.inventory("current"), path)
    return path


def _files(tmp_path: Path, snapshot: Path) -> dict[str, Path]:
    """Bad input files, by name."""
    files = {
        "bad.yaml": "- check: SECURITY-001\n  resource: [unclosed\n",
        "latin1.yaml": b"- check: SECURITY-001\n  reason: caf\xe9\n",
        "answers.yaml": "- id: MANUAL-004\n  answer: yes\n  when: 2026-10-20\n",
        "baseline.json": '{"schema_version": 1,\n "findings": [}\n',
        "old-report.json": json.dumps({"schema_version": 7, "findings": []}),
        "newer-snapshot.json": json.dumps(dict(json.loads(snapshot.read_text()), schema_version=99)),
        "broken-snapshot.json": json.dumps(dict(json.loads(snapshot.read_text()), accounts=[{"regions": "none"}])),
        "config.yaml": "history_depth: many\n",
        "a-file": "not a directory",
    }
    out = {}
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out[name] = path
    (tmp_path / "a-directory.yaml").mkdir()
    out["a-directory.yaml"] = tmp_path / "a-directory.yaml"
    return out


CASES = [
    # (what, arguments after "evaluate SNAPSHOT -o OUT" ({name} = a file above), expected text)
    ("waivers: invalid YAML", ["--waivers", "{bad.yaml}"], "invalid YAML at line 3, column 1"),
    ("waivers: not UTF-8", ["--waivers", "{latin1.yaml}"], "not UTF-8 text; save it as UTF-8"),
    ("waivers: a directory", ["--waivers", "{a-directory.yaml}"], "is a directory; give the file"),
    ("waivers: missing", ["--waivers", "nowhere.yaml"], "nowhere.yaml: no such file; check the path"),
    ("answers: missing field", ["--answers", "{answers.yaml}"], "entry 1: field 'who' is missing; name who answered"),
    ("baseline: not JSON", ["--baseline", "{baseline.json}"], "not JSON (line 2"),
    ("baseline: other schema", ["--baseline", "{old-report.json}"], "report schema version 7 is not one of 1, 2"),
    ("config: invalid field", ["--config", "{config.yaml}"], "invalid at history_depth"),
    ("checks: unknown id", ["--checks", "SECURITY-999"], "--checks 'SECURITY-999': not a check id or area"),
    ("skip-checks: unknown area", ["--skip-checks", "SECURTY"], "did you mean SECURITY?"),
    ("format: unknown", ["--format", "docx"], "--format 'docx': unknown format"),
    ("fail-on: unknown", ["--fail-on", "sometimes"], "--fail-on 'sometimes'"),
]


@pytest.mark.parametrize(("what", "args", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_options_and_files_of_evaluate(tmp_path, snapshot, capsys, what, args, expected) -> None:
    files = _files(tmp_path, snapshot)
    args = [str(files[a[1:-1]]) if a.startswith("{") else a for a in args]
    out = tmp_path / "out"
    code = main(["evaluate", str(snapshot), "-o", str(out), *args])
    line = _one_line(capsys.readouterr().err)
    assert code == 2, line
    assert expected in line, line
    assert not out.exists(), "nothing is written when an input is bad"


@pytest.mark.parametrize(
    ("what", "snapshot_name", "expected"),
    [
        ("a newer schema", "newer-snapshot.json", f"schema version 99 is newer than this ecs-audit understands ({SCHEMA_VERSION}); upgrade ecs-audit"),
        ("an invalid field", "broken-snapshot.json", "invalid at accounts.0.account_id: Field required"),
        ("not JSON", "baseline.json", "not JSON (line 2, column"),
        ("missing", "nowhere.json", "no such file"),
    ],
)
def test_bad_snapshots(tmp_path, snapshot, capsys, what, snapshot_name, expected) -> None:
    files = _files(tmp_path, snapshot)
    path = files.get(snapshot_name, tmp_path / snapshot_name)
    code = main(["evaluate", str(path), "-o", str(tmp_path / "out")])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and expected in line, line


@pytest.mark.parametrize("where", ["under-a-file", "is-a-file"])
def test_an_output_directory_that_cannot_be_written(tmp_path, snapshot, capsys, where) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker / "reports" if where == "under-a-file" else blocker
    code = main(["evaluate", str(snapshot), "-o", str(out)])
    line = _one_line(capsys.readouterr().err)
    assert code == 2
    assert f"output directory {out}: {blocker} is not a directory; choose another with --output-dir" in line
    assert blocker.read_text() == "x"


def test_an_unwritable_output_directory_is_refused_before_the_scan(tmp_path, capsys, monkeypatch) -> None:
    """Checked while parsing the options: a scan never runs for an hour to fail at the end. (The
    endpoint is a closed port: nothing can have been sent.)"""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code = main(["scan", "--region", "us-east-1", "-o", str(blocker / "out")])
    assert code == 2
    assert "is not a directory" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--region", "xx-nowhere-9"], {}, "--region 'xx-nowhere-9': not an AWS region with ECS"),
        (["--region", "us-east-1", "--save-snapshot", "{dir}"], {}, "is a directory; give a file name such as snapshot.json"),
        (["--region", "us-east-1"], {"ECS_AUDIT_READ_TIMEOUT": "soon"}, "ECS_AUDIT_READ_TIMEOUT='soon': give the read timeout in seconds, from 1 to 900"),
        (["--region", "us-east-1"], {"ECS_AUDIT_READ_TIMEOUT": "0"}, "ECS_AUDIT_READ_TIMEOUT='0'"),
        (["--region", "us-east-1"], {"AWS_MAX_ATTEMPTS": "0"}, "AWS_MAX_ATTEMPTS='0': give the attempts per call, first one included, from 1 to 20"),
        (["--region", "us-east-1", "--role-arn", "arn:aws:iam::1:role/x"], {}, "--role-arn"),
    ],
    ids=["region", "snapshot-dir", "read-timeout-text", "read-timeout-zero", "attempts", "role-arn"],
)
def test_bad_scan_options_and_settings(tmp_path, capsys, monkeypatch, args, env, expected) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = [a.format(dir=tmp_path) for a in args]
    code = main(["scan", "-o", str(tmp_path / "out"), *args])
    line = _one_line(capsys.readouterr().err)
    assert code == 2, line
    assert expected in line, line
    assert not (tmp_path / "out").exists()


def test_messages_never_break_the_line_or_drive_the_terminal(tmp_path, snapshot, capsys) -> None:
    hostile = tmp_path / "waivers.yaml"
    hostile.write_text('- {check: "SECURITY-001\\nline two\\u001b[2J", resource: "*", reason: why not, owner: me, expires: 2027-01-01}\n')
    code = main(["evaluate", str(snapshot), "-o", str(tmp_path / "out"), "--waivers", str(hostile)])
    err = capsys.readouterr().err
    assert code == 2
    line = _one_line(err)
    assert "\x1b" not in err and "line two" in line


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("ecs-audit: error: "), lines[0]
    return lines[0]


def test_a_version_1_snapshot_still_loads_and_is_read_as_the_current_version(tmp_path):
    from ecs_audit.inventory.snapshot import load_snapshot

    old = {
        "schema_version": 1,
        "tool_version": "0.9.0",
        "collected_at": "2026-06-01T00:00:00Z",
        "caller": {"account_id": "123456789012", "arn": "arn:aws:iam::123456789012:role/audit"},
        "partition": "aws",
        "accounts": [{"account_id": "123456789012", "regions": [{"account_id": "123456789012", "region": "us-east-1", "ecs": {"clusters": []}}]}],
    }
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    inventory = load_snapshot(path)
    assert inventory.schema_version == SCHEMA_VERSION
    region = inventory.accounts[0].regions[0]
    assert region.not_collected == [] and region.ecs is not None and region.ecs.daemons == []
