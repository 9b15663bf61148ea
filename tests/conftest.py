"""Shared test setup.

No test may reach a real AWS account: for the whole session, the AWS variables that could point boto3 at
real credentials or endpoints are removed, the config and credentials files point at the null device,
and the instance metadata service is off. Tests that need an endpoint (the e2e tests' moto server) pass
it explicitly, or in the environment of the subprocess they start.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

_REMOVED_PREFIXES = ("AWS_ENDPOINT_URL",)
_REMOVED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "MOTO_ACCOUNT_ID",
)


@pytest.fixture(scope="session", autouse=True)
def _no_real_aws() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key in _REMOVED or key.startswith(_REMOVED_PREFIXES):
                patch.delenv(key)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files under tests/golden/ from the current output instead of comparing with them.",
    )
