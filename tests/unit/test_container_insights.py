"""A cluster's effective Container Insights setting: its own setting overrides the account default,
and without either Container Insights is off
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html)."""

from __future__ import annotations

from ecs_audit.inventory.ecs import AccountSetting, Cluster
from ecs_audit.semantics.container_insights import container_insights

ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/c1"


def _cluster(value: str | None) -> Cluster:
    settings = [{"name": "containerInsights", "value": value}] if value else []
    return Cluster.model_validate({"clusterArn": ARN, "clusterName": "c1", "settings": settings})


def test_the_cluster_setting_overrides_the_account_default():
    setting = container_insights(_cluster("Disabled"), AccountSetting(name="containerInsights", value="enhanced"))
    assert (setting.value, setting.source, setting.is_on) == ("disabled", "cluster setting", False)


def test_the_account_default_applies_to_a_cluster_without_a_setting():
    setting = container_insights(_cluster(None), AccountSetting(name="containerInsights", value="enhanced"))
    assert (setting.value, setting.source, setting.is_on) == ("enhanced", "account default", True)


def test_without_either_container_insights_is_off():
    for cluster in (_cluster(None), None):
        setting = container_insights(cluster, None)
        assert (setting.value, setting.source, setting.is_on) == ("disabled", "AWS default", False)
