"""The built-in demo account: a realistic ECS estate seeded into moto, audited like a real account.

- `estate`: seeds the account with boto3 (networks, roles, registries, load balancers, clusters...).
- `enrich`: fills in response fields that AWS returns and moto does not (registeredBy, task AZs...),
  as plain functions over response dicts, shared by the demo's botocore hooks and the tests' proxy.
- `hooks`: installs those functions as botocore `after-call` handlers on the audit session.
- `run`: `ecs-audit demo`: seed, hook and scan, all in-process and offline.
"""
