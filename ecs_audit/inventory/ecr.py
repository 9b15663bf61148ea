"""Amazon ECR (and Amazon Inspector findings for ECR images): the repositories of in-use images."""

from __future__ import annotations

from datetime import datetime

from ecs_audit.inventory.base import AwsShape, Record


class ImageScanningConfiguration(AwsShape):
    scan_on_push: bool = False


class EncryptionConfiguration(AwsShape):
    encryption_type: str | None = None
    kms_key: str | None = None


class Repository(AwsShape):
    repository_arn: str
    repository_name: str
    registry_id: str | None = None
    repository_uri: str | None = None
    created_at: datetime | None = None
    image_tag_mutability: str | None = None
    image_scanning_configuration: ImageScanningConfiguration | None = None
    encryption_configuration: EncryptionConfiguration | None = None


class EcrInventory(Record):
    """Repositories referenced by in-use images in this region's registry."""

    repositories: list[Repository] = []

    def repository(self, name: str) -> Repository | None:
        for repository in self.repositories:
            if repository.repository_name == name:
                return repository
        return None
