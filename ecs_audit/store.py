"""Where kept files go: a local directory, or (ecs_audit.session's writer) an S3 bucket and prefix.

A store holds whole files by key ("runs/20261204T061500Z/report.json.gz"); writes are atomic (a
temporary file renamed into place, or one S3 PutObject)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from ecs_audit.errors import UsageError


class Store(Protocol):
    location: str

    def read(self, key: str) -> bytes | None: ...

    def write(self, key: str, data: bytes) -> None: ...

    def list(self, prefix: str) -> list[str]: ...

    def delete(self, key: str) -> None: ...


class LocalStore:
    def __init__(self, root: Path):
        self.root = root
        self.location = str(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UsageError(f"history {self.root}: cannot read {key} ({exc.strerror or exc})") from None

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise UsageError(f"history {self.root}: cannot write {key} ({exc.strerror or exc})") from None

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # Leave no empty run directory behind.
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break


def open_store(location: str) -> Store:
    """A directory path, or s3://bucket/prefix (written with the separate writer session)."""
    if location.startswith("s3://"):
        from ecs_audit.session import s3_store

        return s3_store(location)
    return LocalStore(Path(location))
