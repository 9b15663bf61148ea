"""report.pdf: report.html printed by a Chromium found on the machine (no browser is bundled)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ecs_audit.errors import UsageError

_TIMEOUT_S = 120


def chromium_binary() -> str | None:
    """$ECS_AUDIT_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    for candidate in (os.environ.get("ECS_AUDIT_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def print_pdf(binary: str, html: Path, pdf: Path) -> None:
    """Print `html` to `pdf` with headless Chromium (its print layout: summary and FAIL/WARN roll-ups).
    Nothing is fetched: the report is self-contained and its CSP allows no request."""
    with tempfile.TemporaryDirectory(prefix="ecs-audit-chromium-") as profile:
        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--no-pdf-header-footer", f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}", html.resolve().as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"--format pdf: {binary} could not print the report ({exc.__class__.__name__}: {exc})") from None
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"--format pdf: {binary} exited {done.returncode} without a PDF ({last[:200]})")
