"""The demo's recording (ecs_audit.demo.cassette): current with the demo data and the collectors, keyed
on what identifies a request, moved to the replay's clock, and never guessing an answer it lacks."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecs_audit.demo.cassette import RECORD_COMMAND, Cassette, read_recording, recording_path, request_key, write_recording
from ecs_audit.demo.record import comparable, main
from ecs_audit.errors import AuditFailed
from ecs_audit.pipeline import ReportOptions


def test_the_committed_recording_is_current(tmp_path: Path) -> None:
    """Re-records the demo account from its data (`python -m ecs_audit.demo.record`, in a fresh
    interpreter as a developer runs it: moto's ids depend on what else the process asked of moto) and
    compares: a change of the demo data, the backstory or a collector's calls without re-recording
    fails here."""
    path = tmp_path / "recording.json.gz"
    done = subprocess.run([sys.executable, "-m", "ecs_audit.demo.record", "--output", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    committed = comparable(read_recording(recording_path()))
    fresh = comparable(read_recording(path))
    assert sorted(set(committed) - set(fresh)) == [], "requested no longer: re-record with " + RECORD_COMMAND
    assert sorted(set(fresh) - set(committed)) == [], "not in the recording: re-record with " + RECORD_COMMAND
    changed = sorted(key for key in fresh if fresh[key] != committed[key])
    assert changed == [], "answered differently now: re-record with " + RECORD_COMMAND


def test_a_changed_answer_is_stale(tmp_path: Path) -> None:
    """The comparison the test above relies on tells a changed answer from a re-recording's noise."""
    document = read_recording(recording_path())
    key = next(k for k, answer in document["answers"].items() if " ecs DescribeServices " in k and '"desiredCount": 2' in answer[2])
    status, headers, body = document["answers"][key]
    edited = dict(document, answers={**document["answers"], key: [status, headers, body.replace('"desiredCount": 2', '"desiredCount": 3', 1)]})
    assert '"desiredCount": 2' in body
    assert comparable(edited) != comparable(document)


def test_request_keys_hold_parameters_and_tokens_but_not_times() -> None:
    first = request_key("us-east-1", "ecs", "ListServices", {"cluster": "prod", "nextToken": "abc", "maxResults": 10})
    assert first == request_key("us-east-1", "ecs", "ListServices", {"maxResults": 10, "nextToken": "abc", "cluster": "prod"})
    assert first != request_key("us-east-1", "ecs", "ListServices", {"cluster": "prod", "nextToken": "abd", "maxResults": 10})
    assert first != request_key("eu-west-1", "ecs", "ListServices", {"cluster": "prod", "nextToken": "abc", "maxResults": 10})
    window = {"StartTime": datetime(2026, 1, 1, tzinfo=timezone.utc), "EndTime": datetime(2026, 1, 15, tzinfo=timezone.utc)}
    later = {"StartTime": datetime(2026, 3, 1, tzinfo=timezone.utc), "EndTime": datetime(2026, 3, 15, tzinfo=timezone.utc)}
    assert request_key("us-east-1", "cloudwatch", "GetMetricData", window) == request_key("us-east-1", "cloudwatch", "GetMetricData", later)


def test_timestamps_move_to_the_replays_clock(tmp_path: Path) -> None:
    """moto's stamps (made while the recording ran) become the replay's hour; the backstory's times keep
    their distance from the recording's clock."""
    path = tmp_path / "recording.json.gz"
    write_recording(
        {
            "format": 1,
            "clock": "2026-01-10T08:00:00+00:00",
            "seeded_at": "2026-01-10T08:20:00+00:00",
            "recorded_until": "2026-01-10T08:20:06+00:00",
            "answers": {},
        },
        path,
    )
    now = datetime(2026, 3, 1, 14, 35, tzinfo=timezone.utc)
    cassette = Cassette.load(path, now=now)
    parsed = {
        "createdAt": datetime(2026, 1, 10, 8, 20, 3, tzinfo=timezone.utc),
        "events": [{"at": datetime(2026, 1, 10, 8, 0, tzinfo=timezone.utc) - timedelta(days=40)}],
        "expires": datetime(2026, 1, 10, 9, 20, 3, tzinfo=timezone.utc),
    }
    cassette._after_call(parsed)
    assert parsed["createdAt"] == datetime(2026, 3, 1, 14, 0, tzinfo=timezone.utc)
    assert parsed["events"][0]["at"] == datetime(2026, 3, 1, 14, 0, tzinfo=timezone.utc) - timedelta(days=40)
    assert parsed["expires"] == datetime(2026, 3, 1, 15, 20, 3, tzinfo=timezone.utc)


def test_a_request_missing_from_the_recording_stops_the_demo(tmp_path: Path) -> None:
    document = read_recording(recording_path())
    key = next(k for k in document["answers"] if " ecs DescribeServices " in k)
    del document["answers"][key]
    path = tmp_path / "recording.json.gz"
    write_recording(document, path)
    out = tmp_path / "out"
    with pytest.raises(AuditFailed) as raised:
        from ecs_audit.demo.run import run_demo

        run_demo(ReportOptions(output_dir=out, formats=("json",)), recording=path)
    message = str(raised.value)
    assert "\n" not in message
    assert key in message and RECORD_COMMAND in message
    assert not out.exists()


def test_recording_without_moto_says_what_to_install(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # import moto -> ImportError
    assert main(["--output", "/nonexistent/recording.json.gz"]) == 2
    assert capsys.readouterr().err.strip() == "record: error: recording the demo account needs moto: pip install -e '.[test]'"
