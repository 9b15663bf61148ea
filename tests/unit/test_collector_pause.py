"""collector_paused: the cyclic garbage collector off for a bulk phase, then as it was, and nothing
left frozen (cyclic garbage made during the pause is still collected afterwards)."""

from __future__ import annotations

import gc
import weakref

import pytest

from ecs_audit.collector_pause import collector_paused


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.mark.parametrize("promote", [False, True])
def test_the_collector_is_off_inside_and_on_again_after(promote):
    assert gc.isenabled()
    with collector_paused(promote=promote):
        assert not gc.isenabled()
        cycle = weakref.ref(_Node())
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert cycle() is not None  # made during the pause and not collected by it
    gc.collect()
    assert cycle() is None


def test_promoting_moves_what_was_made_to_the_oldest_generation_unscanned():
    with collector_paused(promote=True):
        kept = [[i] for i in range(5_000)]
    assert gc.get_count()[0] < 100  # the young generation is empty: no collection is due
    assert gc.get_freeze_count() == 0
    assert all(gc.is_tracked(item) for item in kept[:10])


def test_a_collector_the_caller_turned_off_stays_off():
    gc.disable()
    try:
        with collector_paused(promote=True):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_reports_are_rendered_with_the_collector_off(tmp_path, monkeypatch):
    from ecs_audit.report import render
    from tests.support.sample_report import sample_report

    seen = []
    monkeypatch.setitem(render.RENDERERS, "csv", lambda report, catalogue, **_: seen.append(gc.isenabled()) or "x\n")
    report, catalogue = sample_report()
    render.write_reports(report, catalogue, ["csv"], tmp_path)
    assert seen == [False] and gc.isenabled()
