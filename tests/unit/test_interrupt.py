"""Ctrl-C and SIGTERM (ecs_audit.interrupt): one line saying what was interrupted, exit 130 / 143, and on
disk either the previous report or the complete new one, never a mix or a half-written file.

The whole CLI is run in-process (pytest's main thread receives the signals); the end-to-end test with
a real process and a slow endpoint is in tests/e2e/test_faults_moto.py."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ecs_audit import interrupt
from ecs_audit.cli import main
from ecs_audit.session import ALLOWED_ACTIONS
from ecs_audit.inventory.snapshot import save_snapshot
from ecs_audit.report import render
from ecs_audit.session import ClientFactory
from tests.support import golden_estate


@pytest.fixture(autouse=True)
def _clear_stop() -> Iterator[None]:
    yield
    interrupt.STOP.clear()


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "snap.json"
    save_snapshot(golden_estate.inventory("current"), path)
    return path


def _previous(out: Path) -> dict[str, bytes]:
    out.mkdir()
    files = {"report.json": b'{"previous": true}\n', "report.md": b"# previous\n"}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


def _contents(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_a_signal_while_rendering_leaves_the_previous_report(tmp_path, snapshot, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    previous = _previous(out)
    real = render.RENDERERS["md"]

    def interrupted_markdown(report, catalogue):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(report, catalogue)

    monkeypatch.setitem(render.RENDERERS, "md", interrupted_markdown)
    code = main(["evaluate", str(snapshot), "-o", str(out), "--format", "json,md,html"])
    line = _one_line(capsys.readouterr().err)
    assert code == 143
    assert line.startswith("ecs-audit: interrupted by SIGTERM while writing the reports; no report was written")
    assert f"the previous report in {out} (report.md, report.json) is unchanged" in line
    assert _contents(out) == previous  # nothing new, no staging directory left


def test_a_signal_while_moving_files_into_place_waits_until_the_set_is_complete(tmp_path, snapshot, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    previous = _previous(out)
    real_replace = os.replace
    moved: list[str] = []

    def replace_then_signal(src, dst):
        if not moved:
            os.kill(os.getpid(), signal.SIGINT)  # handled right away: deferred until the set is in place
        real_replace(src, dst)
        moved.append(Path(dst).name)

    monkeypatch.setattr(render.os, "replace", replace_then_signal)
    code = main(["evaluate", str(snapshot), "-o", str(out), "--format", "json,md,html"])
    line = _one_line(capsys.readouterr().err)
    assert code == 130
    assert sorted(moved) == ["report.html", "report.json", "report.md"]
    assert "were written completely" in line, line
    files = _contents(out)
    assert sorted(files) == ["report.html", "report.json", "report.md"]
    assert files["report.json"] != previous["report.json"] and files["report.md"] != previous["report.md"]


def test_an_interrupted_snapshot_leaves_no_temporary_file(tmp_path, monkeypatch) -> None:
    target = tmp_path / "snap.json"
    target.write_text("previous")
    real_write = Path.write_text

    def write_then_interrupt(self, data, *args, **kwargs):
        real_write(self, data[: len(data) // 2], *args, **kwargs)
        raise interrupt.Interrupted(signal.SIGTERM)

    monkeypatch.setattr(Path, "write_text", write_then_interrupt)
    with pytest.raises(interrupt.Interrupted):
        save_snapshot(golden_estate.inventory("current"), target)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.json"]
    assert target.read_text() == "previous"


def test_an_interrupted_pool_does_not_wait_for_its_threads() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(interrupt.Interrupted):
        with interrupt.worker_pool(2, "test") as pool:
            pool.submit(release.wait, 10)
            pool.submit(release.wait, 10)
            pool.submit(release.wait, 10)  # queued: dropped
            raise interrupt.Interrupted(signal.SIGTERM)
    assert time.monotonic() - started < 2
    release.set()


def test_after_an_interruption_no_call_is_sent(monkeypatch) -> None:
    """Collection threads stop at their next call: the client refuses to send it."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    sent: list[str] = []
    factory = ClientFactory(session, ALLOWED_ACTIONS)
    client = factory.client("ecs", "us-east-1")
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    interrupt.STOP.set()
    with pytest.raises(interrupt.Cancelled):
        client.list_clusters()
    assert sent == []


def test_exit_codes_and_names() -> None:
    assert interrupt.Interrupted(signal.SIGINT).exit_code == 130
    assert interrupt.Interrupted(signal.SIGTERM).exit_code == 143
    assert interrupt.Interrupted(signal.SIGTERM).signal_name == "SIGTERM"
    assert not issubclass(interrupt.Interrupted, Exception) and not issubclass(interrupt.Cancelled, Exception)
