"""The fewest API calls the APIs allow for auditing a planned estate: the benchmark's yardstick.

Derived from the estate's shape (the same plan the seeding used) and the documented batch and page
limits, for exactly the data the checks need. Conventions:

- `pages(n, size)`: a list call costs one call even when the list is empty, then one per `size` items;
- `batches(n, size)`: a describe call naming resources is not sent when there is nothing to name;
- one call per resource where the API has no batch form (the comment says so).

Where moto answers differently from AWS in a way that changes the count, the table counts what this
estate, served by moto, needs, and says so (e.g. no ECR scan summaries, no CloudWatch datapoints).
Read it as a table: operation, calls, and on the right the batch limit and which checks need it.
"""

from __future__ import annotations

from collections import Counter
from math import ceil

from tests.benchmarks.estate import EXECUTION_POLICY, EstatePlan, Family, RegionPlan, Revision

HISTORY_DEPTH = 100  # AuditConfig.history_depth default: older revisions read per in-use family
HISTORY_REGION_BUDGET = 1000  # AuditConfig.history_region_budget default


def pages(n: int, size: int) -> int:
    return max(1, ceil(n / size))


def batches(n: int, size: int) -> int:
    return ceil(n / size)


def audited_revisions(rp: RegionPlan) -> list[Revision]:
    """The task definitions the checks evaluate: every revision a service runs, and the latest
    revision of each family that runs nowhere (TASKDEF checks cover it too)."""
    running = {(s.family, s.revision) for s in rp.services}
    out = []
    for family in rp.families:
        for rev in family.revisions:
            if (family.name, rev.revision) in running:
                out.append(rev)
        if not family.in_use and family.latest.active:
            out.append(family.latest)
    return out


def history_revisions(rp: RegionPlan) -> list[Revision]:
    """Older revisions of in-use families (SECURITY-017 reads their environment, CICD-006 the
    rollback target's images): those newer than the deployed one first, then older ones, each newest
    first, up to the depth per family and within the region budget (collect/ecs.py _history_to_read)."""
    running = {(s.family, s.revision) for s in rp.services}
    ranked: list[tuple[int, str, Revision]] = []
    for family in rp.families:
        if family.in_use:
            deployed = max(r for f, r in running if f == family.name)
            others = [r for r in reversed(family.revisions) if (family.name, r.revision) not in running]
            order = [r for r in others if r.revision > deployed] + [r for r in others if r.revision <= deployed]
            ranked += [(rank, family.name, r) for rank, r in enumerate(order[:HISTORY_DEPTH])]
    # AuditConfig.history_region_budget, shared round-robin by rank
    return [r for _, _, r in sorted(ranked, key=lambda item: (item[0], item[1]))[:HISTORY_REGION_BUDGET]]


def rollback_revisions(rp: RegionPlan) -> list[Revision]:
    """The previous ACTIVE revision of each service's family (CICD-006 checks its images exist)."""
    by_name: dict[str, Family] = {f.name: f for f in rp.families}
    out = {}
    for service in rp.services:
        earlier = [r for r in by_name[service.family].revisions if r.active and r.revision < service.revision]
        if earlier:
            out[(service.family, earlier[-1].revision)] = earlier[-1]
    return list(out.values())


def region_minimum(rp: RegionPlan) -> Counter[str]:
    m: Counter[str] = Counter()
    clusters = rp.clusters
    services = rp.services
    audited = audited_revisions(rp)
    history = history_revisions(rp)
    revisions = [r for f in rp.families for r in f.revisions]
    active = sum(1 for r in revisions if r.active)
    current_images = {(r.repository, r.tag) for r in audited}
    wanted_images = current_images | {(r.repository, r.tag) for r in rollback_revisions(rp)}
    in_use_repositories = {repo for repo, _ in current_images}
    wanted_repositories = {repo for repo, _ in wanted_images}
    target_groups = [s for s in services if s.balanced]
    load_balancers = rp.balanced_clusters
    fargate = services  # every benchmark service is FARGATE

    # --- ECS ------------------------------------------------------------------------------ batch / needed by
    m["ecs:ListClusters"] += pages(len(clusters), 100)  # 100 ARNs a page; every cluster check
    m["ecs:DescribeClusters"] += batches(len(clusters), 100)  # 100 clusters a call
    m["ecs:ListServices"] += sum(pages(len(c.services), 100) for c in clusters)  # per cluster, 100 a page
    m["ecs:DescribeServices"] += sum(batches(len(c.services), 10) for c in clusters)  # 10 services a call, per cluster
    m["ecs:ListTasks"] += sum(pages(0, 100) for _ in clusters)  # per cluster (services here run no tasks: moto)
    # DescribeTasks: ceil(tasks / 100) per cluster: no tasks run in this estate.
    # ListContainerInstances / DescribeContainerInstances: none (Fargate only: DescribeClusters says 0 instances).
    # DescribeCapacityProviders: none (only FARGATE / FARGATE_SPOT, which need no call).
    m["ecs:ListAccountSettings"] += pages(0, 10)  # 10 a page; moto returns only settings that were put (none)
    # Every revision of the region, ACTIVE and INACTIVE, 100 ARNs a page (families come from the same
    # list, so ListTaskDefinitionFamilies is not needed): SECURITY-017, CICD-006 (previous ACTIVE revision).
    m["ecs:ListTaskDefinitions"] += pages(active, 100) + pages(len(revisions) - active, 100)
    # No batch form: one call per audited revision and per older revision of an in-use family.
    m["ecs:DescribeTaskDefinition"] += len(audited) + len(history)

    # --- ECR (IMAGE checks, CICD-006) -----------------------------------------------------
    # Every repository of the region, in use or not (IMAGE-008/009/010), 1000 a page.
    m["ecr:DescribeRepositories"] += pages(len(rp.repositories), 1000)
    m["ecr:GetRegistryScanningConfiguration"] += 1 if in_use_repositories else 0  # registry-wide (IMAGE-003/004/005)
    m["ecr:BatchGetRepositoryScanningConfiguration"] += batches(len(in_use_repositories), 25)  # 25 names a call (IMAGE-003)
    m["ecr:GetLifecyclePolicy"] += len(rp.repositories)  # no batch form; every repository (IMAGE-008)
    m["ecr:GetRepositoryPolicy"] += len(rp.repositories)  # no batch form; every repository (IMAGE-009)
    per_repo = Counter(repo for repo, _ in wanted_images)
    m["ecr:DescribeImages"] += sum(batches(n, 100) for n in per_repo.values())  # 100 image ids a call, per repository
    if not rp.enhanced_scanning:
        # BASIC scanning: findings per image (no batch form); needed when DescribeImages gives no scan
        # summary or one with CRITICAL/HIGH counts. moto never returns a summary: every current image.
        m["ecr:DescribeImageScanFindings"] += len(current_images)

    # --- Inspector (IMAGE-002/003 under ENHANCED scanning) --------------------------------
    if current_images:
        m["inspector2:BatchGetAccountStatus"] += 1
        m["inspector2:GetConfiguration"] += 1
        if rp.enhanced_scanning:  # BASIC: Inspector's ECR scanning is off, its findings need no call
            m["inspector2:ListFindings"] += batches(len(current_images), 10)  # 10 digests a filter, no findings

    # --- Elastic Load Balancing (NETWORK, RESILIENCE-007) ---------------------------------
    m["elasticloadbalancing:DescribeTargetGroups"] += batches(len(target_groups), 20)  # 20 ARNs a call
    m["elasticloadbalancing:DescribeLoadBalancers"] += batches(len(load_balancers), 20)  # 20 ARNs a call
    m["elasticloadbalancing:DescribeTargetGroupAttributes"] += len(target_groups)  # no batch form
    m["elasticloadbalancing:DescribeListeners"] += len(load_balancers)  # per load balancer, 400 a page
    m["wafv2:GetWebACLForResource"] += sum(1 for c in load_balancers if c.internet_facing)  # per internet-facing ALB

    # --- Application Auto Scaling (RESILIENCE) --------------------------------------------
    # The region's whole ecs namespace is the audited services' (every cluster is audited).
    m["application-autoscaling:DescribeScalableTargets"] += pages(len(target_groups), 50)  # 50 a page
    if target_groups:
        m["application-autoscaling:DescribeScalingPolicies"] += pages(len(target_groups), 10)  # 10 a page, one policy each

    # --- what task definitions reference ---------------------------------------------------
    m["logs:DescribeLogGroups"] += batches(len({r.log_group for r in audited}), 50)  # 50 names a call
    m["ssm:DescribeParameters"] += batches(len({r.parameter for r in audited}), 50)  # 50 names a filter
    m["secretsmanager:DescribeSecret"] += len({r.secret for r in audited if r.secret})  # no batch form

    # --- account-level services of the region -----------------------------------------------
    m["guardduty:ListDetectors"] += 1  # no detector here: nothing more
    m["compute-optimizer:GetECSServiceRecommendations"] += batches(len(fargate), 100)  # 100 service ARNs a call (no recommendations)

    # --- EC2 (NETWORK): 2 task subnets, 1 VPC, cluster and load-balancer security groups ----------
    m["ec2:DescribeSubnets"] += 1  # 200 filter values a call
    m["ec2:DescribeRouteTables"] += 1  # one vpc-id filter returns explicit associations and the main table
    m["ec2:DescribeSecurityGroups"] += 1  # 200 group ids a call
    m["ec2:DescribeFlowLogs"] += 1  # 200 VPC ids a call

    # --- CloudWatch (OBSERVABILITY, sizing) -------------------------------------------------
    # The region's metric alarms, 100 a page (CloudWatch cannot filter by dimension): here the two
    # alarms Application Auto Scaling creates per target-tracking policy. They concern the services,
    # so the composite alarms are read too (one page: there are none).
    alarms = 2 * len(target_groups)
    m["cloudwatch:DescribeAlarms"] += pages(alarms, 100) + (pages(0, 100) if alarms else 0)
    # Six queries per service, 500 queries a call; moto has no datapoints, so every call is one page.
    # (Against AWS, 14 days of hourly points for 6 metrics make pages of at most 100,800 points the
    # bound: about one call per 50 services however the queries are grouped.)
    m["cloudwatch:GetMetricData"] += batches(6 * len(services), 500)
    return m


def referenced_roles(plan: EstatePlan) -> tuple[set[str], set[str]]:
    """(task roles, execution roles) of every region's audited task definitions."""
    task, execution = set(), set()
    for rp in plan.regions:
        for rev in audited_revisions(rp):
            task.add(rev.task_role)
            execution.add(rev.execution_role)
    return task, execution


def minimum_calls(plan: EstatePlan) -> Counter[str]:
    """Calls per IAM action for auditing every region of `plan` and the account's IAM."""
    m: Counter[str] = Counter()
    m["sts:GetCallerIdentity"] += 1  # who is auditing, once
    for rp in plan.regions:
        m.update(region_minimum(rp))
    task, execution = referenced_roles(plan)
    roles = len(task) + len(execution)
    policies = {plan.task_role_policy(r) for r in task} | ({EXECUTION_POLICY} if execution else set())
    # IAM has no batch read for named roles: per role its trust policy and both policy lists, per
    # inline policy its document (task roles have one), per distinct managed policy the policy and its
    # default version's document.
    m["iam:GetRole"] += roles
    m["iam:ListAttachedRolePolicies"] += roles
    m["iam:ListRolePolicies"] += roles
    m["iam:GetRolePolicy"] += len(task)
    m["iam:GetPolicy"] += len(policies)
    m["iam:GetPolicyVersion"] += len(policies)
    return +m
