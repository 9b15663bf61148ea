"""The benchmark's critical-path model (tests/benchmarks/critical_path.py) on made-up calls."""

from __future__ import annotations

from tests.benchmarks.critical_path import Exchange, critical_path, identifiers


def _call(start: float, end: float, action: str, sent: dict, answered: dict) -> Exchange:
    return Exchange(start, end, action, identifiers(sent), identifiers(answered))


ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/c1"


def test_the_chain_follows_identifiers_answered_before_they_are_sent():
    calls = [
        _call(0.0, 0.1, "ecs:ListClusters", {}, {"clusterArns": [ARN]}),
        _call(0.0, 0.1, "ecs:ListTaskDefinitions", {"status": "ACTIVE"}, {"taskDefinitionArns": ["arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"]}),
        _call(0.1, 0.2, "ecs:DescribeClusters", {"clusters": [ARN]}, {"clusters": [{"clusterArn": ARN, "status": "ACTIVE"}]}),
        _call(0.2, 0.3, "ecs:ListServices", {"cluster": ARN}, {"serviceArns": ["svc-1"], "nextToken": "page-2-token"}),
        _call(0.3, 0.4, "ecs:ListServices", {"cluster": ARN, "nextToken": "page-2-token"}, {"serviceArns": ["svc-2"]}),
        _call(0.4, 0.5, "ecs:DescribeServices", {"cluster": ARN, "services": ["svc-2"]}, {"services": [{"taskDefinition": "web:1", "status": "INACTIVE"}]}),
        # Sent after the describe, but needs nothing it answered: "ACTIVE" was known beforehand.
        _call(0.6, 0.7, "ecs:ListAccountSettings", {"status": "ACTIVE"}, {}),
        # ... and so is an enumerated value no call sent before an answer held it.
        _call(0.6, 0.7, "ecs:ListTaskDefinitionFamilies", {"status": "INACTIVE"}, {}),
    ]
    chain = critical_path(calls)
    assert [c.action for c in chain] == ["ecs:ListClusters", "ecs:ListServices", "ecs:ListServices", "ecs:DescribeServices"]


def test_an_answer_not_yet_received_is_no_dependency_and_no_calls_no_path():
    assert critical_path([]) == []
    overlapping = [
        _call(0.0, 0.2, "a:First", {}, {"id": "res-123"}),
        _call(0.1, 0.3, "a:Second", {"id": "res-123"}, {}),  # sent before the answer came: known beforehand
    ]
    assert len(critical_path(overlapping)) == 1


def test_pieces_of_arns_and_image_uris_link_calls():
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-api:v2"
    calls = [
        _call(0.0, 0.1, "ecs:DescribeTaskDefinition", {"taskDefinition": "web:1"}, {"image": image}),
        _call(0.2, 0.3, "ecr:DescribeImages", {"repositoryName": "shop-api", "imageIds": [{"imageTag": "v2"}]}, {}),
    ]
    assert [c.action for c in critical_path(calls)] == ["ecs:DescribeTaskDefinition", "ecr:DescribeImages"]


def test_a_number_inside_a_page_token_links_nothing():
    calls = [
        _call(0.0, 0.1, "elasticloadbalancing:DescribeLoadBalancers", {}, {"LoadBalancerArn": "lb-arn-1"}),
        _call(0.1, 0.2, "ecs:ListTaskDefinitions", {}, {"nextToken": "bench:100"}),
        _call(0.1, 0.15, "elasticloadbalancing:DescribeTargetGroups", {"LoadBalancerArn": "lb-arn-1"}, {"NextMarker": "100"}),
        _call(0.3, 0.4, "ecs:ListTaskDefinitions", {"nextToken": "bench:100"}, {}),
    ]
    # The second page follows the first (2 round trips), not the target groups' "100" (it would be 3).
    assert len(critical_path(calls)) == 2
    assert [c.action for c in critical_path([calls[1], calls[3]])] == ["ecs:ListTaskDefinitions", "ecs:ListTaskDefinitions"]
    assert "123456789012" in identifiers({"arn": "arn:aws:iam::123456789012:role/x"})
