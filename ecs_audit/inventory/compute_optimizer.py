"""AWS Compute Optimizer: ECS service recommendations, where the account has opted in."""

from __future__ import annotations

from ecs_audit.inventory.base import AwsShape, Record

OPTED_IN = "opted in"
NOT_OPTED_IN = "not opted in"
NOT_ASKED = "not asked"  # no Fargate service to ask about


class ServiceConfiguration(AwsShape):
    memory: int | None = None
    cpu: int | None = None


class EstimatedMonthlySavings(AwsShape):
    currency: str | None = None
    value: float | None = None


class SavingsOpportunity(AwsShape):
    savings_opportunity_percentage: float | None = None
    estimated_monthly_savings: EstimatedMonthlySavings | None = None


class ServiceRecommendationOption(AwsShape):
    memory: int | None = None
    cpu: int | None = None
    savings_opportunity: SavingsOpportunity | None = None


class EcsServiceRecommendation(AwsShape):
    service_arn: str
    current_service_configuration: ServiceConfiguration | None = None
    lookback_period_in_days: float | None = None
    launch_type: str | None = None
    finding: str | None = None
    finding_reason_codes: list[str] = []
    service_recommendation_options: list[ServiceRecommendationOption] = []

    def summary(self) -> str:
        """One phrase: the finding and the first recommended size."""
        text = f"Compute Optimizer: {self.finding or 'no finding'}"
        options = [o for o in self.service_recommendation_options if o.cpu or o.memory]
        if options and self.finding != "Optimized":
            best = options[0]
            text += f", recommends {best.cpu} CPU units / {best.memory} MiB"
        return text


class ComputeOptimizerInventory(Record):
    """Recommendations for the region's in-use Fargate services. `status` says whether the account is
    opted in; when it is not, there are no recommendations and that is a state, not a failure.
    Compute Optimizer only covers Fargate services, so services on EC2 are never asked about."""

    status: str = OPTED_IN
    recommendations: list[EcsServiceRecommendation] = []
    # Per-service answers of "no recommendation" (GetECSServiceRecommendations `errors`), by ARN.
    unavailable: dict[str, str] = {}

    def recommendation_for(self, service_arn: str) -> EcsServiceRecommendation | None:
        for recommendation in self.recommendations:
            if recommendation.service_arn == service_arn:
                return recommendation
        return None
