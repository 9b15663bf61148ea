"""AWS access: sessions, the guarded client factory and the caller's identity.

Every client the tool uses comes from a ClientFactory, which refuses, before anything is sent, any
operation that is not on the read-only allowlist the collectors declare. That holds whatever
permissions the credentials carry.
"""

from __future__ import annotations

import logging
import os
import json
import re
import threading
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

from ecs_audit import __version__, interrupt
from ecs_audit.errors import AuditFailed, ReadOnlyViolation, UsageError
from ecs_audit.inventory.errors import iam_action
from ecs_audit.inventory.parts import COLLECTOR_ACTIONS
from ecs_audit.inventory.snapshot import CallerIdentity
from ecs_audit.pacing import Pacer

# Calls the tool makes outside the collectors, in every audited account.
SESSION_ACTIONS = frozenset({"sts:GetCallerIdentity", "ec2:DescribeRegions"})
# Calls made only with the caller's own credentials: assuming roles and listing the organisation.
ACCESS_ACTIONS = frozenset({"sts:AssumeRole", "organizations:ListAccounts"})
# Every operation the audit may send (the collectors' declarations, inventory/parts.py); the client
# factory refuses all others.
ALLOWED_ACTIONS: frozenset[str] = COLLECTOR_ACTIONS | SESSION_ACTIONS
# What the caller's own credentials may additionally do: assume the audit roles, list the organisation.
CALLER_ACTIONS: frozenset[str] = ALLOWED_ACTIONS | ACCESS_ACTIONS

# The session type the rest of the tool passes around without importing boto3 itself.
AwsSession = boto3.Session

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")

log = logging.getLogger(__name__)

# Seconds to wait for an answer before botocore gives up on an attempt (and retries).
READ_TIMEOUT_VARIABLE = "ECS_AUDIT_READ_TIMEOUT"
DEFAULT_READ_TIMEOUT = 30.0
# Attempts per call, the first one included: botocore's standard variable, honoured when set.
ATTEMPTS_VARIABLE = "AWS_MAX_ATTEMPTS"
DEFAULT_ATTEMPTS = 9


def client_config(max_pool_connections: int = 32) -> Config:
    """Adaptive retries (throttling, 5xx, timeouts and dropped connections are retried with backoff,
    and the client slows down when throttled), 9 attempts per call and a 30 s read timeout unless
    AWS_MAX_ATTEMPTS or ECS_AUDIT_READ_TIMEOUT say otherwise (a bad value is a usage error)."""
    return Config(
        retries={"mode": "adaptive", "total_max_attempts": total_attempts()},
        connect_timeout=5,
        read_timeout=read_timeout(),
        max_pool_connections=max_pool_connections,
        user_agent_extra=f"ecs-audit/{__version__}",
    )


def read_timeout() -> float:
    value = os.environ.get(READ_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 1 <= seconds <= 900:
        raise UsageError(f"{READ_TIMEOUT_VARIABLE}={value!r}: give the read timeout in seconds, from 1 to 900 (default 30)")
    return seconds


def total_attempts() -> int:
    value = os.environ.get(ATTEMPTS_VARIABLE, "").strip()
    if not value:
        return DEFAULT_ATTEMPTS
    if not value.isdigit() or not 1 <= int(value) <= 20:
        raise UsageError(f"{ATTEMPTS_VARIABLE}={value!r}: give the attempts per call, first one included, from 1 to 20 (default 9)")
    return int(value)


def make_session(profile: str | None) -> boto3.Session:
    """A boto3 session from the standard chain (env, profile, SSO, instance role)."""
    try:
        return boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise UsageError(f"--profile {profile}: no such profile in the AWS config files") from None


class ClientFactory:
    """Creates and caches guarded clients for one set of credentials. Every request they send is
    paced (`pacer`: a share of the account's API rate buckets, see pacing.py), unless `paced` is
    False (--no-pacing: endpoints without AWS's rate limits, such as moto, LocalStack, the demo)."""

    def __init__(
        self,
        session: boto3.Session,
        allowed_actions: frozenset[str],
        max_pool_connections: int = 32,
        *,
        pacer: Pacer | None = None,
        paced: bool = True,
    ):
        self._session = session
        self._allowed = allowed_actions
        self.pacer: Pacer | None = None
        if paced:
            self.pacer = pacer if pacer is not None else Pacer(check=interrupt.check)
        self._config = client_config(max_pool_connections)
        self._clients: dict[tuple[str, str], BaseClient] = {}
        # Creating a client takes tens of milliseconds and is not safe from several threads at once
        # (one botocore session): one creation at a time, under `_create_lock`. Calls with a client
        # already made neither wait for it nor take it; counting them has a lock of its own.
        self._create_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    @property
    def allowed_actions(self) -> frozenset[str]:
        return self._allowed

    def client(self, service: str, region: str) -> BaseClient:
        key = (service, region)
        client = self._clients.get(key)
        if client is not None:  # published only once its hooks are registered
            return client
        with self._create_lock:
            client = self._clients.get(key)
            if client is None:
                client = self._session.client(service, region_name=region, config=self._config)
                client.meta.events.register("before-parameter-build", self._guard(service))
                if self.pacer is not None:
                    client.meta.events.register("before-send", self._pace(self.pacer, service, region))
                install_safeguards(client, self._session.get_credentials())
                self._clients[key] = client
            return client

    def ahead(self, service: str, region: str, operation: str) -> AbstractContextManager[None]:
        """Pay the next request's token now (Pacer.ahead); nothing to pay when not paced."""
        return self.pacer.ahead(region, service, operation) if self.pacer is not None else nullcontext()

    @staticmethod
    def _pace(pacer: Pacer, service: str, region: str):
        """A `before-send` handler (once per attempt, retries included) taking a token first."""

        def pace(event_name: str = "", **_: Any) -> None:
            pacer.wait(region, service, event_name.rsplit(".", 1)[-1])

        return pace

    def _guard(self, service: str):
        def count(action: str) -> None:
            with self._count_lock:
                self.calls[action] += 1

        return readonly_guard(service, self._allowed, count)


def readonly_guard(service: str, allowed: frozenset[str], on_call: Any = None) -> Any:
    """A `before-parameter-build` handler refusing every operation of `service` not in `allowed`."""

    def guard(model: Any, **_: Any) -> None:
        action = iam_action(service, model.name)
        if action not in allowed:
            raise ReadOnlyViolation(f"{action} is not on ecs-audit's read-only allowlist; refusing to send it")
        if on_call is not None:
            on_call(action)

    return guard


def assumed_session(
    base: boto3.Session,
    role_arn: str,
    *,
    region: str,
    external_id: str | None = None,
    session_name: str = "ecs-audit",
    duration: int = 3600,
) -> boto3.Session:
    """A session whose credentials come from assuming `role_arn` with the base session's credentials.

    The credentials are refreshed automatically before they expire, so long runs keep working; the
    AssumeRole calls go through a client that is guarded like every other."""
    source = base.get_credentials()
    if source is None:
        raise AuditFailed(
            "no AWS credentials found to assume the role with: set AWS_PROFILE or pass --profile, or run `aws sso login`"
        )

    def create_sts(service_name: str, **kwargs: Any) -> BaseClient:
        client = base.client(service_name, region_name=region, config=client_config(), **kwargs)
        client.meta.events.register("before-parameter-build", readonly_guard(service_name, frozenset({"sts:AssumeRole"})))
        # Signed with the source credentials frozen at this moment (botocore builds one client per
        # AssumeRole), so renewing them could not help this client: no renewal hook here.
        install_safeguards(client)
        return client

    extra: dict[str, Any] = {"RoleSessionName": session_name, "DurationSeconds": duration}
    if external_id:
        extra["ExternalId"] = external_id
    cache: dict[str, Any] = {}
    windows = RefreshWindows.for_duration(duration)
    fetcher = AssumeRoleCredentialFetcher(
        create_sts, source, role_arn, extra_args=extra, cache=cache, expiry_window_seconds=windows.advisory
    )
    credentials = AssumedRoleCredentials(fetcher.fetch_credentials, cache, role_arn, windows)
    core = botocore.session.Session()
    # botocore has no public setter for a ready credentials object; this is how refreshable
    # assumed-role sessions are built outside a profile.
    core._credentials = credentials
    return boto3.Session(botocore_session=core, region_name=region)


# --- what every client gets: stop when interrupted, refuse malformed answers, renew expired roles ---


class MalformedResponse(ValueError):
    """A successful answer whose body is not what the API sends (cut short, an HTML page, not JSON)."""


# The codes AWS answers with when temporary credentials are no longer accepted (JSON protocols,
# query protocol, EC2).
EXPIRED_CODES = frozenset({"ExpiredTokenException", "ExpiredToken", "RequestExpired"})
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
_XML_ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?<(?:[\w.-]+:)?([\w.-]+)")
_SIGNED_WITH = "ecs_audit_access_key"
_RENEWED = "ecs_audit_renewed"
# Renewals one call may trigger: fresh credentials rejected again and again mean renewing does not help.
_RENEWALS_PER_CALL = 3


@dataclass(frozen=True)
class RefreshWindows:
    """Seconds before expiry at which assumed-role credentials are renewed: `advisory` by one thread
    while the others go on, `mandatory` with every thread waiting for it."""

    advisory: int
    mandatory: int

    @classmethod
    def for_duration(cls, duration: int) -> "RefreshWindows":
        # botocore's defaults (15 and 10 minutes) would renew the shortest session (900 s) before
        # every single call; renew in the last third of a session instead, at most 15 minutes ahead.
        return cls(advisory=min(15 * 60, duration // 3), mandatory=min(10 * 60, duration // 6))


class AssumedRoleCredentials(DeferredRefreshableCredentials):
    """An assumed role's credentials: assumed on first use, renewed before they expire, and assumed
    again at once when AWS answers that they expired (a revoked session, a skewed clock): see
    `renew_rejected`, which the clients call through their `needs-retry` event."""

    def __init__(self, fetch: Any, cache: dict[str, Any], role_arn: str, windows: RefreshWindows):
        super().__init__(refresh_using=fetch, method="assume-role")
        self.role_arn = role_arn
        self._cache = cache
        self._advisory_refresh_timeout = windows.advisory
        self._mandatory_refresh_timeout = windows.mandatory

    def renew_rejected(self, access_key: str | None) -> bool:
        """AWS rejected `access_key` as expired: assume the role again, once however many calls saw
        the rejection (False: another call had renewed them already). Raises what AssumeRole raised
        when that fails."""
        with self._refresh_lock:
            current = self._frozen_credentials
            if current is not None and access_key and current.access_key != access_key:
                return False
            self._cache.clear()
            self._protected_refresh(is_mandatory=True)
            return True


def install_safeguards(client: BaseClient, credentials: Any = None) -> None:
    """Hooks every client of the tool gets (see docs/reliability.md):
    - after an interruption (Ctrl-C, SIGTERM) no call is sent and no retry waited for;
    - a successful answer whose body is not the API's is an error (MalformedResponse), never an
      empty result;
    - with assumed-role credentials, an answer saying they expired renews them and retries the call
      (at most a few times per call)."""
    events = client.meta.events
    events.register("before-call", _stop_if_interrupted)
    events.register("needs-retry", _stop_if_interrupted)
    events.register("before-parse", _refuse_malformed)
    if isinstance(credentials, AssumedRoleCredentials):
        events.register("request-created", _remember_signing_key)
        events.register("needs-retry", _renew_when_expired(credentials))


def _stop_if_interrupted(**_: Any) -> None:
    interrupt.check()


def _refuse_malformed(operation_model: Any = None, response_dict: Any = None, **_: Any) -> None:
    """botocore's JSON parser reads a body that is not JSON as {"message": body}, and its XML parser
    reads a well-formed page of something else as an answer without data: either would look like "no
    resources". Refuse them before parsing."""
    if operation_model is None or not isinstance(response_dict, dict):
        return
    status = int(response_dict.get("status_code") or 0)
    if not 200 <= status < 300 or operation_model.has_streaming_output:
        return
    body = response_dict.get("body") or b""
    if isinstance(body, str):
        body = body.encode("utf-8", "replace")
    service_model = operation_model.service_model
    protocol = getattr(service_model, "resolved_protocol", None) or service_model.protocol
    output = operation_model.output_shape
    expects_data = output is not None and bool(getattr(output, "members", None))
    what = f"{iam_action(service_model.service_name, operation_model.name)} answered HTTP {status}"
    if protocol in ("json", "rest-json"):
        if not body.strip():
            if protocol == "json" and expects_data:
                raise MalformedResponse(f"{what} with an empty body")
            return
        if protocol == "rest-json" and output is not None and output.serialization.get("payload"):
            return  # the body is one member, not necessarily a JSON document
        try:
            parsed = json.loads(body)
        except ValueError:
            raise MalformedResponse(f"{what} with a body that is not JSON ({len(body)} bytes; cut short or not from the API)") from None
        if not isinstance(parsed, dict):
            raise MalformedResponse(f"{what} with JSON that is not an object")
    elif protocol in ("query", "ec2"):
        root = _XML_ROOT.match(body)
        expected = f"{operation_model.name}Response"
        if not body.strip() and not expects_data:
            return
        if root is None or root.group(1).decode("ascii", "replace") != expected:
            raise MalformedResponse(f"{what} with a body that is not a {expected} document ({len(body)} bytes)")


def _remember_signing_key(request: Any = None, **_: Any) -> None:
    """Note which access key signed the request (runs after the signer), for `_renew_when_expired`."""
    context = getattr(request, "context", None)
    if context is None:
        return
    found = _ACCESS_KEY.search(str(request.headers.get("Authorization", "")))
    if found:
        context[_SIGNED_WITH] = found.group(1)


def _renew_when_expired(credentials: AssumedRoleCredentials) -> Any:
    def renew(response: Any = None, request_dict: Any = None, **_: Any) -> float | None:
        if not response or not isinstance(request_dict, dict):
            return None
        parsed = response[1] if len(response) > 1 else None
        error = parsed.get("Error") if isinstance(parsed, dict) else None
        if not isinstance(error, dict) or error.get("Code") not in EXPIRED_CODES:
            return None
        context = request_dict.setdefault("context", {})
        renewals = context.get(_RENEWED, 0)
        if renewals >= _RENEWALS_PER_CALL:
            return None  # the error stands
        context[_RENEWED] = renewals + 1
        try:
            renewed = credentials.renew_rejected(context.get(_SIGNED_WITH))
        except Exception as exc:
            message = " ".join(str(error.get("Message") or "the credentials expired").split())
            error["Message"] = f"{message}; assuming {credentials.role_arn} again failed: {_failure(exc)}"
            return None
        if renewed:
            log.info("the credentials of %s expired: assumed the role again", credentials.role_arn)
        return 0  # retry at once, signed with the current credentials

    return renew


def _failure(exc: Exception) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        return f"{error.get('Code', 'error')}: {' '.join(str(error.get('Message', '')).split())}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def organization_accounts(clients: ClientFactory, region: str) -> list[tuple[str, str]]:
    """(account id, name) of the organisation's ACTIVE accounts."""
    try:
        pages = clients.client("organizations", region).get_paginator("list_accounts").paginate()
        accounts = [a for page in pages for a in page.get("Accounts", [])]
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise AuditFailed(
            f"--org-role-name: cannot list the organisation's accounts ({error.get('Code', 'error')}): run it with "
            "credentials of the management account or a delegated administrator"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AuditFailed(f"--org-role-name: cannot list the organisation's accounts ({exc})") from None
    active = [a for a in accounts if (a.get("State") or a.get("Status")) == "ACTIVE"]
    return sorted((a["Id"], a.get("Name", "")) for a in active)


def caller_identity(factory: ClientFactory, region: str) -> CallerIdentity:
    """Who we are; every way this fails means the audit cannot run (exit 3)."""
    try:
        response = factory.client("sts", region).get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        raise AuditFailed(
            "no AWS credentials found: set AWS_PROFILE or pass --profile, run `aws sso login`, or export AWS credentials"
        ) from None
    except (botocore.exceptions.SSOTokenLoadError, botocore.exceptions.UnauthorizedSSOTokenError):
        raise AuditFailed("the AWS SSO session has expired or is missing: run `aws sso login`") from None
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise AuditFailed(
            f"the AWS credentials were rejected ({error.get('Code', 'error')}): {error.get('Message', '').strip()}"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AuditFailed(f"cannot reach AWS STS to identify the caller: {exc}") from None
    # UserId is not kept: for IAM users some endpoints answer with the access key id.
    return CallerIdentity(account_id=response["Account"], arn=response["Arn"])


def partition_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def known_regions(session: boto3.Session) -> set[str]:
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ecs", partition_name=partition))
    return regions


def resolve_regions(session: boto3.Session, requested: list[str]) -> list[str]:
    """Validate --region values, or fall back to the profile's region."""
    if not requested:
        if not session.region_name:
            raise UsageError("no region: pass --region REGION (repeatable), --all-regions, or set AWS_REGION / the profile's region")
        requested = [session.region_name]
    known = known_regions(session)
    out: list[str] = []
    for region in requested:
        region = region.strip()
        if not _REGION.match(region) or (known and region not in known):
            raise UsageError(f"--region {region!r}: not an AWS region with ECS (e.g. us-east-1, eu-west-1)")
        if region not in out:
            out.append(region)
    return out


def enabled_regions(factory: ClientFactory, home_region: str) -> list[str]:
    """The regions enabled for the account (opted-in or enabled by default)."""
    try:
        response = factory.client("ec2", home_region).describe_regions()
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise AuditFailed(f"--all-regions: cannot list the account's regions ({error.get('Code', 'error')})") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AuditFailed(f"--all-regions: cannot list the account's regions ({exc})") from None
    return sorted(r["RegionName"] for r in response.get("Regions", []))


# --- the writer: a separate session for s3:// output and history --------------------------------


def parse_s3_location(location: str, what: str) -> tuple[str, str]:
    """s3://bucket/prefix -> (bucket, prefix without slashes at either end)."""
    rest = location[len("s3://"):] if location.startswith("s3://") else ""
    bucket, _, prefix = rest.partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket or ""):
        raise UsageError(f"{what} {location}: not an s3://bucket/prefix location (bucket names are 3-63 lower-case letters, digits, dots and hyphens)")
    return bucket, prefix.strip("/")


# The only operations the writer's client sends, and only to its own bucket and prefix. It is a
# session of its own (ECS_AUDIT_WRITER_PROFILE, else the standard chain): the audit session's
# clients stay read-only whatever the writer may do.
WRITER_OPERATIONS = {"PutObject": "s3:PutObject", "GetObject": "s3:GetObject", "ListObjectsV2": "s3:ListBucket"}
WRITER_PROFILE_VARIABLE = "ECS_AUDIT_WRITER_PROFILE"


def writer_guard(bucket: str, prefix: str) -> Any:
    """A `before-parameter-build` handler: only WRITER_OPERATIONS, only in `bucket` under `prefix`."""

    def guard(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name not in WRITER_OPERATIONS:
            raise ReadOnlyViolation(f"s3:{model.name} is not on the report writer's allowlist; refusing to send it")
        if params.get("Bucket") != bucket:
            raise ReadOnlyViolation(f"s3:{model.name} outside the report bucket {bucket}; refusing to send it")
        key = params.get("Key", params.get("Prefix", ""))
        if prefix and not (key == prefix or key.startswith(prefix + "/")):
            raise ReadOnlyViolation(f"s3:{model.name} outside s3://{bucket}/{prefix}; refusing to send it")

    return guard


class S3Store:
    """A history or output location in S3, written through the writer's own guarded client."""

    def __init__(self, client: BaseClient, bucket: str, prefix: str):
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.location = f"s3://{bucket}/{prefix}".rstrip("/")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, what: str, exc: Exception) -> UsageError:
        return UsageError(f"{self.location}: cannot {what} ({_failure(exc)})")

    def read(self, key: str) -> bytes | None:
        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._fail(f"read {key}", exc) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._fail(f"read {key}", exc) from None

    def write(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ServerSideEncryption="AES256")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._fail(f"write {key}", exc) from None

    def list(self, prefix: str) -> list[str]:
        full = self._key(prefix)
        keys: list[str] = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                keys += [item["Key"] for item in page.get("Contents", [])]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise self._fail("list", exc) from None
        strip = len(self.prefix) + 1 if self.prefix else 0
        return sorted(key[strip:] for key in keys)

    def delete(self, key: str) -> None:
        raise UsageError(
            f"{self.location}: the report writer may not delete; expire old runs with an S3 lifecycle rule on "
            f"{self._key('runs/')} (see docs/scheduling.md)"
        )


def s3_store(location: str) -> S3Store:
    bucket, prefix = parse_s3_location(location, "location")
    profile = os.environ.get(WRITER_PROFILE_VARIABLE, "").strip() or None
    try:
        session = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise UsageError(f"{WRITER_PROFILE_VARIABLE}={profile}: no such profile in the AWS config files") from None
    client = session.client("s3", region_name=session.region_name or "us-east-1", config=client_config(4))
    client.meta.events.register("before-parameter-build.s3", writer_guard(bucket, prefix))
    install_safeguards(client)
    return S3Store(client, bucket, prefix)
