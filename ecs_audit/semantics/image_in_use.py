"""Which image a container runs, and where its evidence lives.

Shared by the ECR and Inspector collectors and the image checks, so they agree on what "the image in
use" is: the digest running tasks report, else the digest the reference pins, else the tag (latest
when none) resolved to a digest by ECR. Never "the newest image in the repository".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecs_audit.semantics.image_reference import ImageRef, ImageRefError, parse_image_ref
from ecs_audit.inventory.ecs import Task


@dataclass(frozen=True)
class ImageId:
    """One image in one repository, as DescribeImages is asked for it: by digest, else by tag."""

    repository: str
    tag: str | None
    digest: str | None

    def api(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}

    def describe(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.repository, self.digest or "", self.tag or "")


def parse_or_none(image: str) -> ImageRef | None:
    try:
        return parse_image_ref(image)
    except ImageRefError:
        return None


def is_local_ecr(ref: ImageRef, account_id: str, region: str) -> bool:
    """The image is in this account's private ECR registry in this region."""
    return ref.is_ecr and ref.ecr_account == account_id and ref.ecr_region == region


def referenced_id(ref: ImageRef) -> ImageId:
    """What ECS pulls for a reference: its digest if it pins one, else its tag (latest when none)."""
    if ref.digest:
        return ImageId(ref.repository, None, ref.digest)
    return ImageId(ref.repository, ref.tag or "latest", None)


def running_digests(tasks: Iterable[Task], task_definition_arn: str, container: str) -> list[str]:
    """The image digests running tasks of this definition report for this container."""
    digests = {
        c.image_digest
        for task in tasks
        if task.task_definition_arn == task_definition_arn
        for c in task.containers
        if c.name == container and c.image_digest
    }
    return sorted(digests)


def ecr_image_arn(partition: str, ref: ImageRef, digest: str) -> str:
    """Amazon Inspector's resource id for an ECR image (and what its failed calls are recorded against)."""
    return f"arn:{partition}:ecr:{ref.ecr_region}:{ref.ecr_account}:repository/{ref.repository}/{digest}"


def repository_arn(partition: str, region: str, account_id: str, repository: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account_id}:repository/{repository}"
