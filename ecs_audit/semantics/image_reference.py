"""Container image references, parsed the way Docker and containerd read them.

`parse_image_ref("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.4@sha256:...")` splits a
reference into registry host, repository path, tag and digest, and says whether the registry is a
private Amazon ECR registry (and which account and region). Checks use it to judge pinning and
provenance, and to join container images to ECR repositories.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
PUBLIC_ECR = "public.ecr.aws"

# Grammar of github.com/distribution/reference.
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
_HOST = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::\d+)?$")

# Private ECR registry hosts: IPv4 (dkr.ecr), dual-stack (dkr-ecr), their FIPS variants, in the
# commercial, China, GovCloud, ISO and European Sovereign Cloud partitions.
_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr[.-]ecr(?:-fips)?\.(?P<region>[a-z]{2,4}(?:-[a-z]+)+-\d+)\."
    r"(?:amazonaws\.com|amazonaws\.com\.cn|on\.aws|on\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|amazonaws\.eu)$"
)


class ImageRefError(ValueError):
    """The text is not a valid image reference."""


@dataclass(frozen=True)
class ImageRef:
    registry: str  # host[:port], lower-case; "docker.io" for Docker Hub
    repository: str  # path inside the registry ("library/nginx" for an official Docker Hub image)
    tag: str | None
    digest: str | None  # "sha256:<hex>"
    is_ecr: bool  # a private Amazon ECR registry (public.ecr.aws is not)
    ecr_region: str | None
    ecr_account: str | None

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DOCKER_HUB

    @property
    def is_public_ecr(self) -> bool:
        return self.registry == PUBLIC_ECR

    @property
    def name(self) -> str:
        """registry/repository, without tag or digest."""
        return f"{self.registry}/{self.repository}"


@functools.lru_cache(maxsize=4096)
def parse_image_ref(text: str) -> ImageRef:
    """Parse an image reference; ImageRefError if it is not one. (Kept for reuse: each container's
    image is parsed by several checks, and an ImageRef is immutable.)"""
    reference = text.strip()
    if not reference:
        raise ImageRefError("empty image reference")
    name, digest = reference, None
    if "@" in reference:
        name, _, digest = reference.partition("@")
        if not _DIGEST.match(digest):
            raise ImageRefError(f"invalid digest {digest!r} in image reference {text!r}")
    tag = None
    colon, slash = name.rfind(":"), name.rfind("/")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            raise ImageRefError(f"invalid tag {tag!r} in image reference {text!r}")
    registry, repository = _split_registry(name, text)
    ecr = _ECR_HOST.match(registry)
    return ImageRef(
        registry=registry,
        repository=repository,
        tag=tag,
        digest=digest,
        is_ecr=ecr is not None,
        ecr_region=ecr.group("region") if ecr else None,
        ecr_account=ecr.group("account") if ecr else None,
    )


def _split_registry(name: str, text: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    # Like Docker: the first component names a registry only if it looks like a host.
    if sep and (any(ch in first for ch in ".:") or first == "localhost" or first != first.lower()):
        if not _HOST.match(first):
            raise ImageRefError(f"invalid registry host {first!r} in image reference {text!r}")
        registry, repository = first.lower(), rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not repository or not all(_PATH_COMPONENT.match(part) for part in repository.split("/")):
        raise ImageRefError(f"invalid repository {repository!r} in image reference {text!r}")
    return registry, repository
