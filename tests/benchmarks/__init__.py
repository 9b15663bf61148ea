"""Large-estate benchmark of ecs-audit's collection: `python -m tests.benchmarks` (see docs/performance.md)."""
