"""Progress on stderr for interactive runs; silent with --quiet or when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
from typing import Protocol


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, label: str) -> None: ...
    def stop(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass

    def stop(self) -> None:
        pass


class RichProgress:
    """One bar over the (account, region) pairs being collected."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("collecting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = None
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task("", total=total)

    def advance(self, label: str) -> None:
        with self._lock:
            if self._task is not None:
                self._progress.update(self._task, advance=1, description=label)

    def stop(self) -> None:
        self._progress.stop()


def progress_for(quiet: bool) -> Progress:
    if quiet or not sys.stderr.isatty():
        return NoProgress()
    return RichProgress()
