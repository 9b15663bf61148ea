"""`--notify URL`: a Slack-compatible webhook message ({"text": ...}) when a run changed something:
a new FAIL at or above `--notify-on`, or resolved results. The URL carries a token: it is never
logged, printed or written to a report, and errors about it do not quote it.

Only check ids, severities, resource names, accounts and regions go into the message: never a
finding's message or evidence."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from ecs_audit.catalogue import Severity
from ecs_audit.errors import UsageError
from ecs_audit.findings import Finding, Status
from ecs_audit.report.model import Report
from ecs_audit.text import plain

log = logging.getLogger(__name__)
SHOWN = 5
TIMEOUT = 10.0


def check_url(url: str) -> str:
    """A usable webhook URL, or a UsageError that does not repeat it."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError("--notify: not an http(s) URL (the value is not shown: it may carry a token)")
    return url


def _slack(text: str) -> str:
    """Slack's mrkdwn control characters escaped (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _where(f: Finding) -> str:
    name = f.resource.name + (f"/{f.container}" if f.container else "")
    return f"{f.severity.value} {f.check_id} {name} ({f.account_id} {f.region})"


def worth_sending(report: Report, notify_on: Severity) -> tuple[list[Finding], int]:
    """New FAILs at or above `notify_on`, and how many results were resolved; nothing without a baseline."""
    if report.baseline is None:
        return [], 0
    new = [f for f in report.findings if f.change == "new" and f.status is Status.FAIL and f.severity.rank >= notify_on.rank]
    return sorted(new, key=lambda f: (-f.severity.rank, f.sort_key)), len(report.resolved)


def message(report: Report, new: list[Finding], resolved: int, notify_on: Severity) -> str:
    assert report.baseline is not None
    score = "n/a" if report.summary.score is None else f"{report.summary.score}/100"
    accounts = ", ".join(report.scope.accounts[:3]) + (f" and {len(report.scope.accounts) - 3} more" if len(report.scope.accounts) > 3 else "")
    lines = [
        f"ECS audit of {accounts}: {len(new)} new FAIL at {notify_on.value} or above, {resolved} resolved "
        f"since {report.baseline.generated_at.isoformat()}. Score {score} (grade {report.summary.grade})."
    ]
    for f in new[:SHOWN]:
        lines.append(f"• new: {_where(f)}")
    if len(new) > SHOWN:
        lines.append(f"• and {len(new) - SHOWN} more new")
    for r in report.resolved[:SHOWN]:
        lines.append(f"• resolved: {_where(r.finding)}")
    if resolved > SHOWN:
        lines.append(f"• and {resolved - SHOWN} more resolved")
    return "\n".join(_slack(line) for line in lines)


def notify(url: str, report: Report, notify_on: Severity) -> bool:
    """Post when something changed; True when a message was sent. A failed post is a warning, not a failed run."""
    new, resolved = worth_sending(report, notify_on)
    if not new and not resolved:
        return False
    body = json.dumps({"text": message(report, new, resolved, notify_on)}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 (scheme checked in check_url)
            answer.read()
    except urllib.error.HTTPError as exc:
        log.warning("notify: the webhook answered HTTP %s; no message was delivered", exc.code)
        return False
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        log.warning("notify: the webhook could not be reached (%s); no message was delivered", type(reason).__name__)
        return False
    return True
