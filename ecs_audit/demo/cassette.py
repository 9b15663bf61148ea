"""The demo account's recording: the AWS answers a demo scan asks for, recorded once from the moto
account (`python -m ecs_audit.demo.record`) and served back to the real clients by `ecs-audit demo`.

Both sides work at the HTTP boundary of botocore, so everything above it runs for real: the collectors,
the guarded client factory, botocore's serialising, signing and parsing, and the demo's hooks
(ecs_audit.demo.hooks) that add to the answers what AWS returns and moto does not.

- A request is identified by the access key that signed it, its region, service, operation and
  parameters as the client was given them (pagination tokens included); timestamps among the
  parameters (GetMetricData's window) are left out, since they follow the clock.
- Recording keeps each answer's status, headers and body, less what changes from run to run and
  nothing reads (request ids, dates of the HTTP exchange).
- Replaying moves every timestamp of an answer to the replay's clock: what moto stamped while the
  recording ran becomes the current hour (moto stamps resources when they are created), anything else
  (the backstory's "40 days ago", expiry times) moves by the whole hours between the recording and now.
- A request the recording has no answer for is not guessed at: it fails the call, and the demo then
  stops with one line naming it (the recording is stale: re-record it). The recording holds the
  demo's fake planted secrets as moto returned them, as the demo data does; the audit drops them as
  it would AWS's answers.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.exceptions import BotoCoreError

FORMAT = 1
RECORDING_NAME = "recording.json.gz"
RECORD_COMMAND = "python -m ecs_audit.demo.record"

_KEY = "ecs_audit_demo_recording_key"
# Headers that differ from run to run and that nothing reads.
_VOLATILE_HEADERS = {"date", "server", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "content-length"}
_REQUEST_ID_XML = re.compile(r"<(RequestId|RequestID|requestId)>[^<]*</\1>")
_REQUEST_ID_JSON = re.compile(r'"(RequestId|requestId)": ?"[0-9a-fA-F-]{20,}"')


def recording_path() -> Path:
    return Path(str(resources.files("ecs_audit.demo").joinpath("data", RECORDING_NAME)))


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return "<time>"
    if isinstance(value, (bytes, bytearray)):
        return "b64:" + base64.b64encode(bytes(value)).decode("ascii")
    return repr(value)


def request_key(region: str, service: str, operation: str, params: Mapping[str, Any]) -> str:
    return f"{region} {service} {operation} " + json.dumps(params, sort_keys=True, separators=(",", ":"), default=_canonical)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _keep_key(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    region = context.get("client_region") or "us-east-1"
    context[_KEY] = request_key(region, model.service_model.service_name, model.name, params)


_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def _caller(request: Any) -> str:
    """Whose credentials signed the request: the same call answers differently for the seeding's
    identity and the audit role (GetCallerIdentity)."""
    authorization = request.headers.get("Authorization") or b""
    if isinstance(authorization, bytes):
        authorization = authorization.decode("ascii", "replace")
    found = _CREDENTIAL.search(authorization)
    return found.group(1) if found else "anonymous"


def _strip_request_ids(body: str) -> str:
    body = _REQUEST_ID_XML.sub(r"<\1>demo</\1>", body)
    return _REQUEST_ID_JSON.sub(r'"\1": "demo"', body)


@dataclass
class Recorder:
    """Records the answers to every request of the sessions it is attached to."""

    seeded_at: datetime
    answers: dict[str, list[Any]] = field(default_factory=dict)
    conflicts: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _current: threading.local = field(default_factory=threading.local)

    def attach(self, session: botocore.session.Session) -> None:
        session.register("before-parameter-build", _keep_key, unique_id="ecs-audit-demo-record-key")
        session.register("before-send", self._sent, unique_id="ecs-audit-demo-record-caller")
        session.register("response-received", self._received, unique_id="ecs-audit-demo-record")

    def _sent(self, request: Any, **_: Any) -> None:
        # response-received is given no request: its signer goes along in the calling thread.
        self._current.caller = _caller(request)

    def _received(self, response_dict: dict[str, Any] | None, context: dict[str, Any], **_: Any) -> None:
        if context.get(_KEY) is None or response_dict is None:
            return
        key = f"{self._current.caller} {context[_KEY]}"
        body = response_dict.get("body") or b""
        headers = {k.lower(): v for k, v in response_dict.get("headers", {}).items() if k.lower() not in _VOLATILE_HEADERS}
        answer = [response_dict.get("status_code", 200), dict(sorted(headers.items())), _strip_request_ids(body.decode("utf-8"))]
        with self._lock:
            if key in self.answers and self.answers[key] != answer:
                self.conflicts.add(key)
            self.answers.setdefault(key, answer)

    def document(self, recorded_until: datetime) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "re-record with": RECORD_COMMAND,
            "clock": _hour(self.seeded_at).isoformat(),
            "seeded_at": self.seeded_at.isoformat(),
            "recorded_until": recorded_until.isoformat(),
            "answers": dict(sorted(self.answers.items())),
        }


def write_recording(document: Mapping[str, Any], path: Path) -> None:
    text = json.dumps(document, indent=0, sort_keys=False, ensure_ascii=False)
    # mtime=0: the same recording gives the same bytes.
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def read_recording(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()))


class NotRecorded(BotoCoreError):
    fmt = "the demo's recording has no answer for {key}"


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


@dataclass
class Cassette:
    """Serves a recording to the sessions it is attached to."""

    answers: Mapping[str, list[Any]]
    seeded_at: datetime
    recorded_until: datetime
    shift: timedelta
    now: datetime
    misses: list[str] = field(default_factory=list)
    _current: threading.local = field(default_factory=threading.local)

    @classmethod
    def load(cls, path: Path | None = None, *, now: datetime | None = None) -> Cassette:
        document = read_recording(path or recording_path())
        if document.get("format") != FORMAT:
            raise ValueError(f"recording format {document.get('format')!r}, expected {FORMAT}")
        now = _hour(now or datetime.now(timezone.utc))
        return cls(
            answers=document["answers"],
            seeded_at=datetime.fromisoformat(document["seeded_at"]),
            recorded_until=datetime.fromisoformat(document["recorded_until"]),
            shift=now - datetime.fromisoformat(document["clock"]),
            now=now,
        )

    def attach(self, session: botocore.session.Session) -> None:
        """Register on `session` before it creates clients (clients copy the handlers then); the
        timestamp shift runs before any after-call handler registered later (the demo's enrichment)."""
        session.register("before-parameter-build", _keep_key, unique_id="ecs-audit-demo-replay-key")
        session.register("before-call", self._before_call, unique_id="ecs-audit-demo-replay-call")
        session.register("before-send", self._send, unique_id="ecs-audit-demo-replay")
        session.register("after-call", self._after_call, unique_id="ecs-audit-demo-replay-clock")

    def _before_call(self, context: dict[str, Any], **_: Any) -> None:
        # before-send is given only the prepared request: the key goes along in the calling thread.
        self._current.key = context.get(_KEY)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        key = getattr(self._current, "key", None)
        key = f"{_caller(request)} {key}" if key else None
        answer = self.answers.get(key) if key else None
        if answer is None:
            self.misses.append(key or f"an unidentified request to {request.url}")
            raise NotRecorded(key=key)
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, _Raw(body.encode("utf-8")))

    def _after_call(self, parsed: Any, **_: Any) -> None:
        self._move(parsed)

    def _move(self, value: Any) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, datetime):
                    value[key] = self._moved(item)
                elif isinstance(item, (dict, list)):
                    self._move(item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, datetime):
                    value[index] = self._moved(item)
                elif isinstance(item, (dict, list)):
                    self._move(item)
        return value

    def _moved(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            return self._moved(moment.replace(tzinfo=timezone.utc)).replace(tzinfo=None)
        if self.seeded_at <= moment <= self.recorded_until:
            return self.now.astimezone(moment.tzinfo)
        return moment + self.shift

    def first_miss(self) -> str | None:
        return self.misses[0] if self.misses else None


# Timestamps as moto writes them: ISO 8601 (XML and REST protocols) and epoch seconds (JSON protocols).
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")
_EPOCH = re.compile(r"(?<![\w.])1[5-9]\d{8}(\d{3}|\.\d+)?(?![\w.])")
# What moto draws afresh on every run, outside its seeded ids: uuids (version and application ids),
# session tokens, the ids of AWS managed policies (made before the seed is set).
_UNSEEDED = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"<(SessionToken|SecretAccessKey|PolicyId)>[^<]*</\1>"), r"<\1>-</\1>"),
]
_TOKENS = re.compile(r"[^\s<>\"',:{}\[\]=]+")


def comparable_body(body: str) -> list[str]:
    """A body's content with what changes from one recording of the same estate to the next masked
    (timestamps, unseeded ids), as a sorted list of tokens: moto lists some things (an ECR
    repository's images) in no fixed order."""
    body = _EPOCH.sub("<epoch>", _ISO_TIME.sub("<time>", body))
    for pattern, replacement in _UNSEEDED:
        body = pattern.sub(replacement, body)
    return sorted(_TOKENS.findall(body))
