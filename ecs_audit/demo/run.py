"""`ecs-audit demo`: audit a simulated account, offline.

The account's AWS answers are a recording (ecs_audit.demo.cassette), made from the demo estate seeded
into moto (ecs_audit.demo.live, by `python -m ecs_audit.demo.record`). The demo serves it to the audit's
real clients at botocore's HTTP boundary, adds through hooks what AWS returns and moto does not
(ecs_audit.demo.hooks), and the ordinary pipeline scans it. Nothing leaves the process: no
credentials, profile, config file or endpoint of the user's is read, and moto is not even imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import botocore.session

from ecs_audit import interrupt
from ecs_audit.collect.accounts_regions import AccessOptions
from ecs_audit.demo.account import DEMO_ACCOUNT_ID
from ecs_audit.errors import AuditFailed
from ecs_audit.inventory.snapshot import Inventory, save_snapshot
from ecs_audit.pipeline import Outcome, ReportOptions, collect_inventory, finish

# Set for the duration of the demo; every other AWS_* and MOTO_* variable is removed meanwhile.
_DEMO_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_ACCOUNT_ID": DEMO_ACCOUNT_ID,
    # The roles use AWS managed policies (AmazonECSTaskExecutionRolePolicy, ReadOnlyAccess...).
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    # No file of the user's is read, and no instance metadata service is asked for anything.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def demo_environment() -> Iterator[None]:
    """Scrub the AWS (and moto) environment for the demo and restore it exactly afterwards.

    Removed: AWS_PROFILE, AWS_ENDPOINT_URL*, access keys and session tokens, AWS_CONFIG_FILE and
    AWS_SHARED_CREDENTIALS_FILE (pointed at the null device instead), FIPS/dual-stack switches, web
    identity settings... every AWS_* and MOTO_* variable."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "MOTO_"))}
    try:
        for key in saved:
            del os.environ[key]
        os.environ.update(_DEMO_ENVIRONMENT)
        yield
    finally:
        for key in [k for k in os.environ if k.startswith(("AWS_", "MOTO_"))]:
            del os.environ[key]
        os.environ.update(saved)


def _sharing_models_with(core: botocore.session.Session) -> botocore.session.Session:
    """A fresh botocore session (own credentials, events, clients) that reuses `core`'s loader: the
    service models already parsed are not parsed again."""
    fresh = botocore.session.get_session()
    fresh.register_component("data_loader", core.get_component("data_loader"))
    return fresh


def demo_inventory(core: botocore.session.Session, attach: Callable[[botocore.session.Session], None], options: ReportOptions) -> Inventory:
    """The demo's scan, as recorded and as replayed: the backstory's facts read from the account, the
    audit role assumed, the hooks installed and the account collected. `attach` hooks the AWS side
    (recorder or recording) onto each botocore session before it makes clients."""
    from ecs_audit.demo.account import AUDIT_ROLE, DEMO_REGIONS, HOME_REGION, demo_backstory
    from ecs_audit.demo.enrich import collect_facts
    from ecs_audit.demo.hooks import install_demo_hooks

    attach(core)
    seed_session = boto3.Session(aws_access_key_id="demo-seed", aws_secret_access_key="demo-seed", region_name=HOME_REGION, botocore_session=core)
    clients: dict[tuple[str, str], Any] = {}

    def client_for(service: str, region: str) -> Any:
        if (service, region) not in clients:
            clients[(service, region)] = seed_session.client(service, region_name=region)
        return clients[(service, region)]

    facts = collect_facts(client_for, list(DEMO_REGIONS), backstory=demo_backstory())
    # The audit runs as the account's read-only audit role, with its own (static) credentials.
    credentials = client_for("sts", HOME_REGION).assume_role(RoleArn=f"arn:aws:iam::{facts.account_id}:role/{AUDIT_ROLE}", RoleSessionName="ecs-audit-demo")["Credentials"]
    audit_core = _sharing_models_with(core)
    attach(audit_core)
    audit_session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=HOME_REGION,
        botocore_session=audit_core,
    )
    install_demo_hooks(audit_session, facts)
    # The demo account has no rate limits to keep to: unpaced, as with --no-pacing.
    return collect_inventory(audit_session, AccessOptions(regions=tuple(DEMO_REGIONS), pacing=False), options)


def run_demo(options: ReportOptions, *, recording: Path | None = None) -> Outcome:
    """`recording`: another recording than the packaged one (tests)."""
    from ecs_audit.demo.cassette import RECORD_COMMAND, Cassette, NotRecorded

    with demo_environment():
        try:
            cassette = Cassette.load(recording)
        except (OSError, ValueError, KeyError) as error:
            raise AuditFailed(f"the demo's recording cannot be read ({error}); re-record it: {RECORD_COMMAND}") from None
        try:
            inventory: Inventory | None = demo_inventory(botocore.session.get_session(), cassette.attach, options)
        except (NotRecorded, AuditFailed):
            # A request the recording lacks fails where it is sent: what follows from it is no news.
            if not cassette.misses:
                raise
            inventory = None
    if cassette.misses or inventory is None:
        raise AuditFailed(
            f"the demo's recording has no answer for {cassette.misses[0]} ({len(cassette.misses)} unanswered in all); "
            "it answers a scan with the default collection settings (history_depth, history_region_budget): "
            f"leave those unset for the demo, or, if the recording is stale, re-record it: {RECORD_COMMAND}"
        )
    if options.save_snapshot:
        interrupt.note_activity("saving the snapshot")
        save_snapshot(inventory, options.save_snapshot)
    return finish(inventory, options)
