"""ecs_audit.semantics.image_reference: image references split into registry, repository, tag and digest."""

from __future__ import annotations

import pytest

from ecs_audit.semantics.image_reference import ImageRef, ImageRefError, parse_image_ref

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.27", "docker.io", "library/nginx", "1.27", None),
        ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None),
        ("docker.io/nginx:latest", "docker.io", "library/nginx", "latest", None),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("localhost:5000/app:v2", "localhost:5000", "app", "v2", None),
        ("localhost/app", "localhost", "app", None, None),
        ("registry.example.com:8443/team/app:1.0", "registry.example.com:8443", "team/app", "1.0", None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
        ("ghcr.io/org/app@" + DIGEST, "ghcr.io", "org/app", None, DIGEST),
        ("ghcr.io/org/app:1.2@" + DIGEST, "ghcr.io", "org/app", "1.2", DIGEST),
        ("public.ecr.aws/nginx/nginx:stable", "public.ecr.aws", "nginx/nginx", "stable", None),
        # Docker reads "localhost:5000" without a path as repository "localhost", tag "5000".
        ("localhost:5000", "docker.io", "library/localhost", "5000", None),
        ("  app:1  ", "docker.io", "library/app", "1", None),
        ("Registry.Example.com/app", "registry.example.com", "app", None, None),
    ],
)
def test_parts(text, registry, repository, tag, digest):
    ref = parse_image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "us-east-1"),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
        ("123456789012.dkr-ecr.eu-central-1.on.aws", "eu-central-1"),
        ("123456789012.dkr-ecr-fips.us-east-2.on.aws", "us-east-2"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("123456789012.dkr.ecr.ap-southeast-2.amazonaws.com", "ap-southeast-2"),
    ],
)
def test_ecr_hosts(host, region):
    ref = parse_image_ref(f"{host}/team/app:1.0")
    assert ref.is_ecr
    assert ref.ecr_region == region
    assert ref.ecr_account == "123456789012"
    assert ref.repository == "team/app"
    assert ref.name == f"{host}/team/app"


@pytest.mark.parametrize(
    "text",
    [
        "public.ecr.aws/docker/library/nginx:1",
        "nginx:1",
        "ghcr.io/org/app:1",
        "12345.dkr.ecr.us-east-1.amazonaws.com/app:1",  # not a 12-digit account
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app:1",
        "localhost:5000/app",
    ],
)
def test_not_private_ecr(text):
    ref = parse_image_ref(text)
    assert not ref.is_ecr
    assert ref.ecr_region is None and ref.ecr_account is None


def test_public_ecr_and_docker_hub_flags():
    assert parse_image_ref("public.ecr.aws/nginx/nginx").is_public_ecr
    assert parse_image_ref("nginx").is_docker_hub
    assert not parse_image_ref("ghcr.io/org/app").is_docker_hub


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "app@sha256:abc",  # digest too short
        "app@" + "a" * 64,  # digest without algorithm
        "app:",  # empty tag
        "app:-bad",
        "App/Service:1",  # upper-case first component without a dot is not a host, and paths are lower-case
        "ghcr.io/Org/app:1",
        "ghcr.io//app",
        "ghcr.io/",
        "bad host.example/app",
    ],
)
def test_invalid(text):
    with pytest.raises(ImageRefError):
        parse_image_ref(text)


def test_is_a_value():
    assert parse_image_ref("nginx:1") == ImageRef("docker.io", "library/nginx", "1", None, False, None, None)
