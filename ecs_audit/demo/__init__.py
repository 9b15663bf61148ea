"""The built-in demo account: a realistic ECS estate seeded into moto, audited like a real account.

- `data/`: the estate, as data: account.yaml (what goes in which region, shared names, the backstory) and
  fragments of AWS requests shaped as boto3 takes them.
- `seeder`: applies the fragments (references between requests, per-region variables, `each`);
  `builders`: the few steps that take several calls or moto's own API; `account`: seeds the account.
- `backstory`: what AWS would know and moto cannot (who registered what, utilisation...), from the data.
- `enrich`: fills in response fields that AWS returns and moto does not (registeredBy, task AZs...),
  as plain functions over response dicts, shared by the demo's botocore hooks and the tests' proxy.
- `hooks`: installs those functions as botocore `after-call` handlers on the audit session.
- `run`: `ecs-audit demo`: seed, hook and scan, all in-process and offline.
"""
