"""Record the demo account's answers: `python -m ecs_audit.demo.record [--check] [--output PATH]`.

Seeds the demo estate into moto exactly as the demo data says (ecs_audit.demo.live), runs the demo's
scan against it (every check selected) and writes every answer it was given to
ecs_audit/demo/data/recording.json.gz (ecs_audit.demo.cassette). Run it after changing the demo data,
the backstory or what a collector asks; tests/unit/test_demo_recording.py fails until then.
`--check` writes nothing and exits 1 when the committed recording differs from a fresh one.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ecs_audit.demo.cassette import Recorder, read_recording, recording_path, write_recording
from ecs_audit.errors import EcsAuditError


def record() -> dict[str, Any]:
    """A fresh recording of the demo scan against the moto account."""
    from ecs_audit.demo.live import moto_account
    from ecs_audit.demo.run import demo_environment, demo_inventory
    from ecs_audit.pipeline import ReportOptions

    with demo_environment(), moto_account() as (core, seeded_at):
        recorder = Recorder(seeded_at=seeded_at)
        demo_inventory(core, recorder.attach, ReportOptions())
        if recorder.conflicts:
            raise EcsAuditError(f"the same request got different answers: {sorted(recorder.conflicts)[:3]}")
        return recorder.document(datetime.now(timezone.utc))


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What two recordings of the same estate share: the requests and their answers, less what
    changes from one recording to the next (ecs_audit.demo.cassette.comparable_body)."""
    from ecs_audit.demo.cassette import comparable_body

    return {key: [status, headers, comparable_body(body)] for key, (status, headers, body) in document["answers"].items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecs_audit.demo.record", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed recording; write nothing")
    parser.add_argument("--output", type=Path, default=None, help="where to write (default: the packaged recording)")
    args = parser.parse_args(argv)
    try:
        fresh = record()
    except EcsAuditError as error:
        print(f"record: error: {error}", file=sys.stderr)
        return 2
    path = args.output or recording_path()
    if args.check:
        stale = comparable(read_recording(path)) != comparable(fresh)
        print(f"{path}: {'stale: re-record it' if stale else 'current'} ({len(fresh['answers'])} answers)")
        return 1 if stale else 0
    write_recording(fresh, path)
    print(f"{path}: {len(fresh['answers'])} answers recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
