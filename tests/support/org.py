"""A moto organisation for organisation-run tests and benchmarks: the management account and members
named as given, each running one cluster with one service (a privileged container) per region.

moto accepts every AssumeRole and switches to the role's account: the member role needs no seeding."""

from __future__ import annotations

from tests.support.moto_server import MotoServer

ROLE = "Audit"
REGIONS = ("us-east-1", "eu-west-1")


def seed_member(
    session, account_id: str, regions: tuple[str, ...] = REGIONS, cluster: str = "apps", tags: dict[str, str] | None = None
) -> None:
    """One cluster (`cluster`, formatted with `{region}`) with one service in each region of `account_id`."""
    creds = session.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    cluster_tags = [{"key": key, "value": value} for key, value in (tags or {}).items()]
    for region in regions:
        ecs = session.client(
            "ecs", region_name=region, aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
        )  # fmt: skip
        name = cluster.format(region=region)
        ecs.create_cluster(clusterName=name, **({"tags": cluster_tags} if cluster_tags else {}))
        ecs.register_task_definition(
            family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 512, "privileged": True}],
        )  # fmt: skip
        ecs.create_service(cluster=name, serviceName="api", taskDefinition="api", desiredCount=1, launchType="FARGATE")


def build_org(
    moto_server: MotoServer,
    names: tuple[str, ...],
    regions: tuple[str, ...] = REGIONS,
    *,
    cluster: str = "apps",
    tags: dict[str, str] | None = None,
    unseeded: tuple[str, ...] = (),
) -> tuple[str, dict[str, str]]:
    """A fresh moto organisation: the management account and one member per name (id -> name, in the order
    of `names`), each but the `unseeded` running one cluster (`cluster`, formatted with `{region}`, tagged
    `tags`) with one service in every region of `regions`."""
    from moto import mock_aws

    moto_server.reset()
    mock = mock_aws()
    mock.start(reset=False)
    try:
        session = moto_server.session()
        organizations = session.client("organizations", region_name="us-east-1")
        management = organizations.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
        members = {}
        for name in names:
            status = organizations.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
            members[status["AccountId"]] = name
        for account_id, name in members.items():
            if name not in unseeded:
                seed_member(session, account_id, regions, cluster, tags)
    finally:
        mock.stop(remove_data=False)
    return management, members
