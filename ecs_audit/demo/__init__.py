"""The built-in demo account: a realistic ECS estate seeded into moto, recorded, audited like a real account.

- `data/`: the estate, as data: account.yaml (what goes in which region, shared names, the backstory) and
  fragments of AWS requests shaped as boto3 takes them.
- `seeder`: applies the fragments (references between requests, per-region variables, `each`);
  `builders`: the few steps that take several calls or moto's own API; `account`: seeds the account.
- `backstory`: what AWS would know and moto cannot (who registered what, utilisation...), from the data.
- `enrich`: fills in response fields that AWS returns and moto does not (registeredBy, task AZs...),
  as plain functions over response dicts, shared by the demo's botocore hooks and the tests' proxy.
- `hooks`: installs those functions as botocore `after-call` handlers on the audit session.
- `live`: the account seeded into moto's in-process mock; `record` (`python -m ecs_audit.demo.record`)
  scans it and records every AWS answer into data/recording.json.gz (`cassette`: the format, the
  recorder and the replayer).
- `run`: `ecs-audit demo`: replays the recording to the real clients, hooks and scans, in-process,
  offline and without moto.
"""
