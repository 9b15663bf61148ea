"""Ctrl-C and SIGTERM: stop promptly, say what was interrupted, never leave a half-written report.

Signals are delivered to the process, so the state here is process-wide: the one exception to "no
hidden state", kept to what an interruption needs. The CLI's `main()` calls `install()`; then SIGINT
and SIGTERM

- set STOP, which every AWS client of the run checks before each call and before sleeping to retry
  (ecs_audit.session), so collection threads stop after at most the request they are waiting for;
- raise Interrupted in the main thread, unless it is inside `deferred()` (moving finished report
  files into place), in which case Interrupted is raised when that block ends: the report set is
  replaced completely or not at all.

The pipeline leaves notes (what it is doing, how far collection got, whether the reports were written)
so the CLI can say in one line what was interrupted and what is on disk.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_audit.progress import Progress

STOP = threading.Event()
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Raised in the main thread by SIGINT or SIGTERM. A BaseException, like KeyboardInterrupt, so no
    `except Exception` on the way can swallow it (nor the CLI framework's Ctrl-C handling)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(self.signal_name)

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as shells report it: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum


class Cancelled(BaseException):
    """Raised in a collection thread by an AWS call attempted after the run was interrupted."""

    def __init__(self) -> None:
        super().__init__("the run was interrupted")


@dataclass
class _Notes:
    activity: str = "starting"
    output_dir: Path | None = None
    previous: tuple[str, ...] = ()
    written: bool = False
    done: int = 0
    total: int = 0
    deferring: int = 0
    pending: int | None = None


_NOTES = _Notes()
_LOCK = threading.Lock()


def install() -> Callable[[], None]:
    """Route SIGINT and SIGTERM here for one run; returns a function that restores the old handlers.
    Outside the main thread (signals cannot be handled there) nothing is installed."""
    global _NOTES
    STOP.clear()
    _NOTES = _Notes()
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _on_signal(signum: int, frame: Any) -> None:
    STOP.set()
    if _NOTES.deferring:
        _NOTES.pending = signum
        return
    raise Interrupted(signum)


def interrupted() -> bool:
    return STOP.is_set()


def check() -> None:
    """Raise Cancelled if the run was interrupted (for threads other than the main one)."""
    if STOP.is_set():
        raise Cancelled()


@contextmanager
def deferred() -> Iterator[None]:
    """A block a signal does not cut short: Interrupted is raised when it ends."""
    _NOTES.deferring += 1
    try:
        yield
    finally:
        _NOTES.deferring -= 1
        if not _NOTES.deferring and _NOTES.pending is not None:
            signum, _NOTES.pending = _NOTES.pending, None
            raise Interrupted(signum)


@contextmanager
def worker_pool(max_workers: int, prefix: str) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that, when the run is interrupted, drops its queued work and does not wait for
    the running items (they stop at their next AWS call). Other exceptions wait as usual."""
    pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix=prefix)
    try:
        yield pool
    except (Interrupted, Cancelled):
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


# --- notes for the one line the CLI prints ------------------------------------------------------


def note_activity(activity: str) -> None:
    """What the run is doing now, e.g. "evaluating the checks"."""
    _NOTES.activity = activity


def note_output(output_dir: Path, previous: Sequence[str]) -> None:
    """Where the reports go, and which report files were there before the run."""
    _NOTES.output_dir = output_dir
    _NOTES.previous = tuple(previous)
    _NOTES.written = False


def note_written() -> None:
    _NOTES.written = True


class Tracking:
    """A Progress that also notes how far collection got."""

    def __init__(self, inner: Progress):
        self._inner = inner

    def start(self, total: int) -> None:
        with _LOCK:
            _NOTES.total, _NOTES.done = total, 0
        self._inner.start(total)

    def advance(self, label: str) -> None:
        with _LOCK:
            _NOTES.done += 1
        self._inner.advance(label)

    def stop(self) -> None:
        self._inner.stop()


def summary(signal_name: str) -> str:
    """One line: which signal, what was interrupted, and what is on disk."""
    notes = _NOTES
    activity = notes.activity
    if activity == "collecting" and notes.total:
        activity = f"collecting ({notes.done} of {notes.total} steps done)"
    where = notes.output_dir
    if notes.written:
        reports = f"the reports in {where} were written completely before the interruption"
    elif where is not None and notes.previous:
        reports = f"no report was written; the previous report in {where} ({', '.join(notes.previous)}) is unchanged"
    elif where is not None:
        reports = f"no report was written to {where}"
    else:
        reports = "no report was written"
    return f"interrupted by {signal_name} while {activity}; {reports}"
