"""Every field alias of the IAM, SSM, Secrets Manager and CloudWatch Logs models exists in botocore's
shape for it: a misspelt alias would read as None and could turn a FAIL into a PASS."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader
from pydantic import BaseModel

from ecs_audit.inventory import iam, logs, secretsmanager, ssm

# Our model -> (botocore service, the shape it mirrors).
SHAPES = {
    iam.Role: ("iam", "Role"),
    iam.PermissionsBoundary: ("iam", "AttachedPermissionsBoundary"),
    iam.AttachedPolicy: ("iam", "AttachedPolicy"),
    iam.Policy: ("iam", "Policy"),
    ssm.Parameter: ("ssm", "ParameterMetadata"),
    secretsmanager.Secret: ("secretsmanager", "DescribeSecretResponse"),
    logs.LogGroup: ("logs", "LogGroup"),
}


@pytest.mark.parametrize("model", list(SHAPES), ids=lambda m: f"{m.__module__.rsplit('.', 1)[1]}.{m.__name__}")
def test_every_field_is_an_api_member(model: type[BaseModel]):
    service, shape = SHAPES[model]
    members = set(Loader().load_service_model(service, "service-2")["shapes"][shape]["members"])
    aliases = {field.alias or name for name, field in model.model_fields.items()}
    assert aliases <= members, f"{model.__name__} fields not in botocore shape {service}.{shape}: {sorted(aliases - members)}"


def test_policy_documents_come_from_the_documented_members():
    shapes = Loader().load_service_model("iam", "service-2")["shapes"]
    assert "Document" in shapes["PolicyVersion"]["members"]
    assert "PolicyDocument" in shapes["GetRolePolicyResponse"]["members"]
    assert "DefaultVersionId" in shapes["Policy"]["members"]
