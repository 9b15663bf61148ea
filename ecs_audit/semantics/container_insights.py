"""A cluster's effective Container Insights setting.

The cluster's own containerInsights setting (DescribeClusters include SETTINGS) overrides the account
default (ListAccountSettings containerInsights); without either, Container Insights is off:
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterSetting.html
"""

from __future__ import annotations

from dataclasses import dataclass

from ecs_audit.inventory.ecs import AccountSetting, Cluster

INSIGHTS_ON = ("enabled", "enhanced")


@dataclass(frozen=True)
class InsightsSetting:
    value: str  # enabled, enhanced or disabled (lower case)
    source: str  # "cluster setting", "account default" or "AWS default"

    @property
    def is_on(self) -> bool:
        return self.value in INSIGHTS_ON


def container_insights(cluster: Cluster | None, account_default: AccountSetting | None) -> InsightsSetting:
    value = cluster.setting("containerInsights") if cluster is not None else None
    if value:
        return InsightsSetting(value.lower(), "cluster setting")
    if account_default is not None and account_default.value:
        return InsightsSetting(account_default.value.lower(), "account default")
    return InsightsSetting("disabled", "AWS default")
