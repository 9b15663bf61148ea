"""Every field of the ECR and Inspector inventory shapes must exist in botocore's service models.

A misspelt alias would silently read as None and could turn a FAIL into a PASS; this catches it.
"""

from __future__ import annotations

import pytest
from botocore.loaders import Loader
from pydantic import BaseModel

from ecs_audit.inventory import ecr, inspector

# Our model -> (service, the botocore shape it mirrors).
SHAPES = {
    ecr.Repository: ("ecr", "Repository"),
    ecr.ImageScanningConfiguration: ("ecr", "ImageScanningConfiguration"),
    ecr.EncryptionConfiguration: ("ecr", "EncryptionConfiguration"),
    ecr.ImageTagMutabilityExclusionFilter: ("ecr", "ImageTagMutabilityExclusionFilter"),
    ecr.RegistryScanningConfiguration: ("ecr", "RegistryScanningConfiguration"),
    ecr.RegistryScanningRule: ("ecr", "RegistryScanningRule"),
    ecr.ScanningRepositoryFilter: ("ecr", "ScanningRepositoryFilter"),
    ecr.RepositoryScanningConfiguration: ("ecr", "RepositoryScanningConfiguration"),
    ecr.ImageDetail: ("ecr", "ImageDetail"),
    ecr.ImageScanStatus: ("ecr", "ImageScanStatus"),
    ecr.ImageScanFindingsSummary: ("ecr", "ImageScanFindingsSummary"),
    inspector.AccountState: ("inspector2", "AccountState"),
    inspector.State: ("inspector2", "State"),
    inspector.ResourceState: ("inspector2", "ResourceState"),
    inspector.EcrConfigurationState: ("inspector2", "EcrConfigurationState"),
    inspector.EcrRescanDurationState: ("inspector2", "EcrRescanDurationState"),
    inspector.Finding: ("inspector2", "Finding"),
    inspector.FindingResource: ("inspector2", "Resource"),
    inspector.ResourceDetails: ("inspector2", "ResourceDetails"),
    inspector.AwsEcrContainerImageDetails: ("inspector2", "AwsEcrContainerImageDetails"),
    inspector.PackageVulnerabilityDetails: ("inspector2", "PackageVulnerabilityDetails"),
    inspector.VulnerablePackage: ("inspector2", "VulnerablePackage"),
}


@pytest.fixture(scope="module")
def shapes():
    loader = Loader()
    return {service: loader.load_service_model(service, "service-2")["shapes"] for service in ("ecr", "inspector2")}


@pytest.mark.parametrize("model", list(SHAPES), ids=lambda m: m.__name__)
def test_every_field_is_an_api_member(model: type[BaseModel], shapes):
    service, shape = SHAPES[model]
    members = set(shapes[service][shape]["members"])
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    unknown = aliases - members
    assert not unknown, f"{model.__name__} fields not in botocore shape {service}:{shape}: {sorted(unknown)}"


def test_every_aws_shape_of_the_modules_is_checked():
    from ecs_audit.inventory.base import AwsShape

    declared = {
        obj
        for module in (ecr, inspector)
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, AwsShape) and obj is not AwsShape and obj.__module__ == module.__name__
    }
    assert declared == set(SHAPES), sorted(m.__name__ for m in declared ^ set(SHAPES))
