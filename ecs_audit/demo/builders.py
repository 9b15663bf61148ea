"""The demo data's builders (`demo.<name>` steps): what takes several calls, a computed series, or
moto's own API (/moto-api) rather than one AWS request."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from ecs_audit.demo.seeder import Builder, Region


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("/".join(parts).encode()).hexdigest()


def network(region: Region, *, name: str, cidr_prefix: str, azs: Sequence[str], nat: bool = True) -> None:
    """A VPC across `azs`: a private and a public subnet per AZ, an internet gateway, NAT egress for the
    private subnets (one NAT gateway, in the first AZ). Known afterwards as `vpc`, `subnets/private`
    and `subnets/public` (lists, in AZ order)."""
    ec2 = region.client("ec2")
    tag = lambda kind, value: [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": value}, {"Key": "Environment", "Value": name.split("-")[0]}]}]  # noqa: E731
    vpc = ec2.create_vpc(CidrBlock=f"{cidr_prefix}.0.0/16", TagSpecifications=tag("vpc", f"{name}-vpc"))["Vpc"]["VpcId"]
    # run_task in moto needs DNS hostnames on the VPC (MOTO-NOTES 2d); real VPCs of this kind have them too.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    private, public = [], []
    for index, az in enumerate(azs):
        private.append(
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"{cidr_prefix}.{index * 16}.0/20", AvailabilityZone=az,
                TagSpecifications=tag("subnet", f"{name}-private-{az[-1]}"),
            )["Subnet"]["SubnetId"]
        )
    for index, az in enumerate(azs):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"{cidr_prefix}.{128 + index * 4}.0/22", AvailabilityZone=az,
            TagSpecifications=tag("subnet", f"{name}-public-{az[-1]}"),
        )["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        public.append(subnet)
    igw = ec2.create_internet_gateway(TagSpecifications=tag("internet-gateway", f"{name}-igw"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag("route-table", f"{name}-public"))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet in public:
        ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet)
    private_rt = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag("route-table", f"{name}-private"))["RouteTable"]["RouteTableId"]
    if nat:
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat_id = ec2.create_nat_gateway(SubnetId=public[0], AllocationId=eip, TagSpecifications=tag("natgateway", f"{name}-nat"))["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    for subnet in private:
        ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnet)
    region.made.update({"vpc": vpc, "subnets/private": private, "subnets/public": public})


def images(region: Region, *, images: Mapping[str, int]) -> None:
    """Put image manifests (Docker v2 schema 2) into this region's repositories: `repository:tag` ->
    size in MiB, spread over four layers. The digests are kept for scan results (and the tests)."""
    ecr = region.client("ecr")
    host = region.seeder.ecr_host(region.name)
    for reference, size_mib in images.items():
        repository, tag = reference.rsplit(":", 1)
        layers = []
        remaining = size_mib * 1024 * 1024
        for index in range(4):
            size = remaining // (4 - index)
            remaining -= size
            layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size, "digest": _digest(repository, tag, f"layer{index}")})
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": _digest(repository, tag, "config")},
            "layers": layers,
        }
        response = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag, imageManifestMediaType=manifest["mediaType"])
        region.estate.images[f"{host}/{reference}"] = response["image"]["imageId"]["imageDigest"]


def scan_result(region: Region, *, image: str, severities: Mapping[str, int], findings: Sequence[Mapping[str, Any]] = ()) -> None:
    """A completed basic scan of `repository:tag` with the given findings (moto does not scan on push:
    MOTO-NOTES 2b)."""
    repository, tag = image.rsplit(":", 1)
    digest = region.estate.images[f"{region.seeder.ecr_host(region.name)}/{image}"]
    region.client("ecr").start_image_scan(repositoryName=repository, imageId={"imageTag": tag})
    account = region.seeder.account_id
    region.seeder.moto_post(
        "/moto-api/static/ecr/scan-finding-results",
        json={
            "results": [
                {
                    "registryId": account,
                    "repositoryName": repository,
                    "imageId": {"imageTag": tag, "imageDigest": digest},
                    "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
                    "imageScanFindings": {"findingSeverityCounts": dict(severities), "findings": list(findings)},
                }
            ],
            "region": region.name,
            "account_id": account,
        },
    )


def service_tasks(region: Region, *, cluster: str, service: str, count: int, launchType: str = "FARGATE",
                  platformVersion: str | None = None, awsvpcConfiguration: Mapping[str, Any] | None = None) -> None:
    """Tasks as the service scheduler would start them (moto's services never start tasks): group
    `service:<name>`, startedBy the deployment id, one run_task each, spread round-robin over the subnets."""
    ecs = region.client("ecs")
    described = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    if described.get("deployments"):
        deployment = described["deployments"][0]["id"]
    else:  # CODE_DEPLOY: the task set CodeDeploy created (moto creates none), by a stable id
        deployment = "ecs-svc/" + str(int(hashlib.sha256(described["serviceArn"].encode()).hexdigest(), 16) % 10**19)
    arns = []
    for index in range(count):
        kwargs: dict[str, Any] = {
            "cluster": cluster, "taskDefinition": described["taskDefinition"], "launchType": launchType,
            "group": f"service:{service}", "startedBy": deployment, "count": 1,
        }
        if platformVersion:
            kwargs["platformVersion"] = platformVersion
        if awsvpcConfiguration:
            subnets = awsvpcConfiguration["subnets"]
            kwargs["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": [subnets[index % len(subnets)]],
                    "securityGroups": list(awsvpcConfiguration.get("securityGroups", [])),  # the key must exist for moto (MOTO-NOTES 2d)
                    "assignPublicIp": awsvpcConfiguration.get("assignPublicIp", "DISABLED"),
                }
            }
        arns.extend(t["taskArn"] for t in ecs.run_task(**kwargs)["tasks"])
    region.estate.tasks[f"{cluster}/{service}"] = arns


def container_instances(region: Region, *, cluster: str, instance: Mapping[str, Any] | None = None, auto_scaling_group: str | None = None) -> None:
    """What the ECS agent does when an instance boots: register it, with its identity document. Either
    one `instance` (as ec2.run_instances returned it) or every instance of an Auto Scaling group, oldest first."""
    if auto_scaling_group:
        group = region.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[auto_scaling_group])["AutoScalingGroups"][0]
        reservations = region.client("ec2").describe_instances(InstanceIds=sorted(i["InstanceId"] for i in group["Instances"]))["Reservations"]
        found = sorted((i for r in reservations for i in r["Instances"]), key=lambda i: i["LaunchTime"])
    else:
        found = [instance] if instance else []
    backstory = region.estate.backstory
    for each in found:
        document = {
            "accountId": region.seeder.account_id, "architecture": each.get("Architecture", "x86_64"),
            "availabilityZone": each["Placement"]["AvailabilityZone"], "imageId": each["ImageId"],
            "instanceId": each["InstanceId"], "instanceType": each["InstanceType"], "privateIp": each.get("PrivateIpAddress"),
            "region": region.name, "version": "2017-09-30",
        }
        region.client("ecs").register_container_instance(
            cluster=cluster, instanceIdentityDocument=json.dumps(document),
            versionInfo={"agentVersion": backstory.ecs_agent_version, "agentHash": hashlib.sha1(backstory.ecs_agent_version.encode()).hexdigest()[:8],
                         "dockerVersion": backstory.docker_version},
        )


def _daily_shape(hour: int) -> float:
    """0 at night, 1 at the afternoon peak (UTC 14:00)."""
    if 6 <= hour <= 22:
        return math.sin(math.pi * (hour - 6) / 16) ** 2
    return 0.0


def container_insights(region: Region, *, cluster: str, service: str, task_cpu: int, task_memory: int, tasks: int, days: int = 3) -> None:
    """Hourly Container Insights service metrics (what ECS publishes when Container Insights is on):
    CpuUtilized/CpuReserved and MemoryUtilized/MemoryReserved by ClusterName and ServiceName, shaped by
    the service's utilisation in the backstory.

    Three days by default (enhanced observability was switched on recently): moto's GetMetricData
    scans every datapoint of the region for every period of every query, so two weeks of hourly data
    for a few services costs more than a second per audit."""
    use = region.estate.backstory.utilisation_of(cluster, service)
    now = region.estate.now
    dimensions = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]
    cpu_reserved, memory_reserved = float(task_cpu * tasks), float(task_memory * tasks)
    data: list[dict[str, Any]] = []
    for hours_ago in range(1, days * 24 + 1):
        at = now - timedelta(hours=hours_ago)
        shape = _daily_shape(at.hour)
        for name, reserved, (typical, peak) in (("Cpu", cpu_reserved, use.cpu), ("Memory", memory_reserved, use.memory)):
            average = reserved * (typical + (peak - typical) * shape * 0.92)
            high = min(reserved * peak, average * 1.08)
            for metric, value, low, top in ((f"{name}Utilized", average, average * 0.85, high), (f"{name}Reserved", reserved, reserved, reserved)):
                data.append({
                    "MetricName": metric, "Dimensions": dimensions, "Timestamp": at,
                    "Unit": "None" if name == "Cpu" else "Megabytes",
                    "StatisticValues": {"SampleCount": 60.0, "Sum": round(value * 60, 3), "Minimum": round(low, 3), "Maximum": round(top, 3)},
                })
    cloudwatch = region.client("cloudwatch")
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace="ECS/ContainerInsights", MetricData=data[start : start + 1000])


BUILDERS: dict[str, Builder] = {
    "network": network,
    "images": images,
    "scan_result": scan_result,
    "service_tasks": service_tasks,
    "container_instances": container_instances,
    "container_insights": container_insights,
}
