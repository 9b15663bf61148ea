"""Which accounts and regions to audit, and with which credentials.

From the caller's credentials: optionally assume --role-arn first; with --org-role-name list the
organisation's ACTIVE accounts and assume that role in each. An account whose role cannot be assumed
becomes a Target with its error, reported, while the others go on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import boto3
import botocore.exceptions

from ecs_audit import interrupt
from ecs_audit.collect.shards import Shard
from ecs_audit.errors import AuditFailed, UsageError
from ecs_audit.interrupt import worker_pool
from ecs_audit.inventory.errors import ApiError
from ecs_audit.inventory.snapshot import CallerIdentity
from ecs_audit.pacing import DEFAULT_SHARE, Pacer
from ecs_audit.session import (
    ALLOWED_ACTIONS,
    CALLER_ACTIONS,
    ClientFactory,
    assumed_session,
    caller_identity,
    enabled_regions,
    organization_accounts,
    partition_of,
)


@dataclass(frozen=True)
class Target:
    """An account to audit: its guarded clients and regions, or why it could not be reached."""

    account_id: str
    clients: ClientFactory | None
    regions: tuple[str, ...] = ()
    error: ApiError | None = None
    name: str | None = None  # the organisation's name for the account


_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


@dataclass(frozen=True)
class AccessOptions:
    regions: tuple[str, ...] = ()
    all_regions: bool = False
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = "ecs-audit"
    duration: int = 3600
    org_role_name: str | None = None
    accounts: frozenset[str] | None = None
    exclude_accounts: frozenset[str] = frozenset()
    # (account, region) pairs collected at once, and concurrent API calls within one pair.
    max_workers: int = 8
    max_in_flight: int = 16
    # The share of each of the account's API rate buckets the audit may use (ecs_audit/pacing.py).
    api_share: float = DEFAULT_SHARE
    # --shard I/N: this process audits only the organisation accounts of shard I (ecs_audit.collect.shards).
    shard: Shard | None = None

    def validate(self) -> "AccessOptions":
        if self.role_arn is not None and not _ROLE_ARN.match(self.role_arn):
            raise UsageError(f"--role-arn {self.role_arn!r}: expected arn:aws:iam::<12-digit account>:role/<name>")
        if self.org_role_name is not None:
            check_role_name(self.org_role_name, "--org-role-name")
        if self.external_id is not None and not _EXTERNAL_ID.match(self.external_id):
            raise UsageError("--external-id: 2 to 1224 characters of letters, digits and +=,.@:/-")
        if not _SESSION_NAME.match(self.role_session_name):
            raise UsageError(f"--role-session-name {self.role_session_name!r}: 2 to 64 characters of letters, digits and +=,.@-")
        if not 900 <= self.duration <= 43200:
            raise UsageError(f"--duration {self.duration}: between 900 and 43200 seconds")
        for option, ids in (("--accounts", self.accounts or ()), ("--exclude-accounts", self.exclude_accounts)):
            for account in ids:
                if not _ACCOUNT_ID.match(account):
                    raise UsageError(f"{option}: {account!r} is not a 12-digit AWS account id")
        if (self.accounts or self.exclude_accounts) and not self.org_role_name:
            raise UsageError("--accounts and --exclude-accounts select organisation accounts: use them with --org-role-name")
        if not 0 < self.api_share <= 1:
            raise UsageError(f"--api-share {self.api_share}: give a share above 0 and at most 1 (default {DEFAULT_SHARE})")
        if self.shard is not None and not self.org_role_name:
            raise UsageError("--shard splits an organisation's accounts: use it with --org-role-name")
        if self.regions and self.all_regions:
            raise UsageError("--region and --all-regions exclude each other")
        return self


def check_role_name(name: str, option: str) -> str:
    if not _ROLE_NAME.match(name):
        raise UsageError(f"{option} {name!r}: not a valid IAM role name (1-64 letters, digits and +=,.@_-)")
    return name


def parse_account_list(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def resolve_targets(base: boto3.Session, access: AccessOptions) -> tuple[CallerIdentity, list[Target]]:
    """The caller (after --role-arn) and the accounts to audit."""
    home = access.regions[0] if access.regions else (base.region_name or "us-east-1")
    session = base
    pacer = _pacer(access)
    clients = ClientFactory(base, CALLER_ACTIONS, pacer=pacer)
    caller = caller_identity(clients, home)
    if access.role_arn:
        session = assumed_session(
            base,
            access.role_arn,
            region=home,
            external_id=access.external_id,
            session_name=access.role_session_name,
            duration=access.duration,
        )
        pacer = _pacer(access)  # another account's buckets
        clients = ClientFactory(session, CALLER_ACTIONS, pacer=pacer)
        caller = _identity_after_assume(clients, home, access.role_arn)
    if not access.org_role_name:
        audit_clients = ClientFactory(session, ALLOWED_ACTIONS, pacer=pacer)
        return caller, [_target(caller.account_id, audit_clients, access, home)]

    partition = partition_of(caller.arn)
    names = dict(organization_accounts(clients, home))
    accounts = list(names)
    if access.accounts is not None:
        unknown = sorted(access.accounts - set(accounts))
        if unknown:
            raise UsageError(f"--accounts: {', '.join(unknown)} not among the organisation's ACTIVE accounts")
        accounts = [a for a in accounts if a in access.accounts]
    accounts = [a for a in accounts if a not in access.exclude_accounts]
    if not accounts:
        raise UsageError("no accounts left to audit after --accounts / --exclude-accounts")
    if access.shard is not None:
        # A shard may be empty (fewer accounts than shards): its snapshot then holds no account.
        accounts = [a for a in accounts if access.shard.includes(a)]
        if not accounts:
            return caller, []

    def member(account_id: str) -> Target:
        role_arn = f"arn:{partition}:iam::{account_id}:role/{access.org_role_name}"
        member_session = assumed_session(
            session,
            role_arn,
            region=home,
            external_id=access.external_id,
            session_name=access.role_session_name,
            duration=access.duration,
        )
        member_clients = ClientFactory(member_session, ALLOWED_ACTIONS, pacer=_pacer(access))
        try:
            member_clients.client("sts", home).get_caller_identity()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            return Target(account_id, None, (), _assume_error(exc, account_id, home, role_arn), names[account_id] or None)
        try:
            return replace(_target(account_id, member_clients, access, home), name=names[account_id] or None)
        except AuditFailed as exc:
            return Target(account_id, None, (), name=names[account_id] or None, error=ApiError(
                account_id=account_id, region=home, service="ec2", operation="DescribeRegions",
                error_code="RegionListFailed", message=str(exc),
            ))  # fmt: skip

    with worker_pool(min(access.max_workers, len(accounts)), "account") as pool:
        targets = list(pool.map(member, accounts))
    return caller, targets


def first_reachable(targets: list[Target], failure: str) -> Target:
    """The first target with clients; when there is none, AuditFailed(`failure`) naming the first error."""
    target = next((t for t in targets if t.clients is not None), None)
    if target is None:
        first = next((t.error for t in targets if t.error), None)
        raise AuditFailed(failure + (f" ({first.describe()})" if first else ""))
    return target


def _pacer(access: AccessOptions) -> Pacer:
    """Each set of credentials (one account) gets its own buckets."""
    return Pacer(access.api_share, check=interrupt.check)


def _target(account_id: str, clients: ClientFactory, access: AccessOptions, home: str) -> Target:
    regions = enabled_regions(clients, home) if access.all_regions else list(access.regions or [home])
    return Target(account_id, clients, tuple(regions))


def _identity_after_assume(clients: ClientFactory, region: str, role_arn: str) -> CallerIdentity:
    try:
        return caller_identity(clients, region)
    except AuditFailed as exc:
        raise AuditFailed(f"--role-arn {role_arn}: {exc}") from None


def _assume_error(exc: Exception, account_id: str, region: str, role_arn: str) -> ApiError:
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "ClientError")), str(error.get("Message", ""))
    else:
        code, message = type(exc).__name__, str(exc)
    return ApiError(
        account_id=account_id,
        region=region,
        service="sts",
        operation="AssumeRole",
        error_code=code,
        message=f"cannot assume {role_arn}: {message}".strip(),
        resources=[role_arn],
    )
