"""`ecs-audit demo`: audit a simulated account, offline.

The account is seeded into moto's in-process mock (ecs_audit.demo.estate), the audit session gets
hooks that fill the fields moto leaves out (ecs_audit.demo.hooks), and the ordinary pipeline scans it.
Nothing leaves the process: no credentials, profile, config file or endpoint of the user's is read,
and moto answers every AWS call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from ecs_audit.errors import UsageError
from ecs_audit.pipeline import Outcome, ReportOptions, scan
from ecs_audit.targets import AccessOptions

DEMO_EXTRA_MESSAGE = "the demo needs the demo extra: pip install 'ecs-audit[demo]'"

# Set for the duration of the demo; every other AWS_* and MOTO_* variable is removed meanwhile.
_DEMO_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_ACCOUNT_ID": "111122223333",
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


def run_demo(options: ReportOptions) -> Outcome:
    try:
        from moto import mock_aws
    except ImportError:
        raise UsageError(DEMO_EXTRA_MESSAGE) from None

    from ecs_audit.demo.enrich import collect_facts
    from ecs_audit.demo.estate import AUDIT_ROLE, DEMO_PROVENANCE, DEMO_REGIONS, HOME_REGION, seed_estate
    from ecs_audit.demo.hooks import install_demo_hooks

    with demo_environment(), mock_aws():
        seed_session = boto3.Session(aws_access_key_id="demo-seed", aws_secret_access_key="demo-seed", region_name=HOME_REGION)
        seed_estate(seed_session)
        facts = collect_facts(
            lambda service, region: seed_session.client(service, region_name=region), list(DEMO_REGIONS), provenance=DEMO_PROVENANCE
        )
        # The audit runs as the account's read-only audit role, with its own (static) credentials.
        sts = seed_session.client("sts", region_name=HOME_REGION)
        credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{facts.account_id}:role/{AUDIT_ROLE}", RoleSessionName="ecs-audit-demo")["Credentials"]
        audit_session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=HOME_REGION,
        )
        install_demo_hooks(audit_session, facts)
        return scan(audit_session, AccessOptions(regions=tuple(DEMO_REGIONS)), options)
