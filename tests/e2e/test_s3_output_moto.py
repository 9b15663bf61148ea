"""s3://bucket/prefix output and history against the moto server: reports and runs round-trip through
the writer's own session, which may only put, get and list in its bucket and prefix; the audit
session's clients stay read-only."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ecs_audit.errors import ReadOnlyViolation
from ecs_audit.inventory.snapshot import save_snapshot
from tests.e2e.conftest import aws_env, run_cli
from tests.support import golden_estate
from tests.support.moto_server import MotoServer

pytestmark = pytest.mark.e2e

BUCKET = "ecs-audit-reports"


@pytest.fixture()
def bucket(moto_server: MotoServer):
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket="someone-elses")
    yield s3
    for name in (BUCKET, "someone-elses"):
        for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
        s3.delete_bucket(Bucket=name)


def test_reports_and_history_round_trip_through_s3(tmp_path: Path, moto_server: MotoServer, bucket):
    save_snapshot(golden_estate.inventory("previous"), tmp_path / "previous.json")
    save_snapshot(golden_estate.inventory("current"), tmp_path / "current.json")
    env = aws_env(tmp_path / "home", moto_server.url, SOURCE_DATE_EPOCH="1796364000")  # 2026-12-04
    common = ["--output-dir", f"s3://{BUCKET}/reports/{{date}}", "--history", f"s3://{BUCKET}/history", "-f", "json,md"]
    first = run_cli(["evaluate", "previous.json", *common], env, tmp_path)
    assert first.returncode == 0, first
    assert f"s3://{BUCKET}/reports/2026-12-04/report.json" in first.stdout
    env["SOURCE_DATE_EPOCH"] = "1796450400"  # a day later
    second = run_cli(["evaluate", "current.json", *common], env, tmp_path)
    assert second.returncode == 0, second
    keys = sorted(item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert "reports/2026-12-05/report.json" in keys and "reports/2026-12-05/report.md" in keys
    assert "history/latest" in keys
    runs = sorted({k.split("/")[2] for k in keys if k.startswith("history/runs/")})
    assert len(runs) == 2
    assert {f"history/runs/{runs[1]}/{name}" for name in ("report.json.gz", "snapshot.json.gz", "run.json")} <= set(keys)
    # the second run read the first back from S3 as its baseline
    report = json.loads(bucket.get_object(Bucket=BUCKET, Key="reports/2026-12-05/report.json")["Body"].read())
    assert report["baseline"]["source"] == f"s3://{BUCKET}/history/runs/{runs[0]}"
    assert report["summary"]["changes"] is not None and len(report["history"]["trend"]) == 2
    kept = json.loads(gzip.decompress(bucket.get_object(Bucket=BUCKET, Key=f"history/runs/{runs[1]}/report.json.gz")["Body"].read()))
    assert kept["generated_at"] == report["generated_at"]
    listing = run_cli(["history", "list", f"s3://{BUCKET}/history"], env, tmp_path)
    assert listing.returncode == 0 and len(listing.stdout.splitlines()) == 2, listing
    # the writer may not delete: pruning in S3 is a lifecycle rule's job
    prune = run_cli(["history", "prune", f"s3://{BUCKET}/history", "--keep", "1"], env, tmp_path)
    assert prune.returncode == 2 and "lifecycle" in prune.stderr
    # nothing went to the other bucket, and no local staging copy was left in the working directory
    assert "Contents" not in bucket.list_objects_v2(Bucket="someone-elses")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.json", "home", "previous.json"]


def test_the_writer_is_confined_and_the_audit_session_stays_read_only(moto_server: MotoServer, bucket, monkeypatch):
    import boto3

    from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory, s3_store

    for key, value in {"AWS_ENDPOINT_URL": moto_server.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    store = s3_store(f"s3://{BUCKET}/team-a")
    store.write("x.txt", b"hello")
    assert store.read("x.txt") == b"hello" and store.read("missing") is None
    assert store.list("") == ["x.txt"]
    client = store._client
    with pytest.raises(ReadOnlyViolation):
        client.put_object(Bucket="someone-elses", Key="team-a/x", Body=b"x")
    with pytest.raises(ReadOnlyViolation):
        client.put_object(Bucket=BUCKET, Key="team-b/x", Body=b"x")
    with pytest.raises(ReadOnlyViolation):
        client.delete_object(Bucket=BUCKET, Key="team-a/x.txt")
    with pytest.raises(ReadOnlyViolation):
        client.put_bucket_policy(Bucket=BUCKET, Policy="{}")
    audit = ClientFactory(boto3.Session(region_name="us-east-1"), ALLOWED_ACTIONS).client("s3", "us-east-1")
    with pytest.raises(ReadOnlyViolation):
        audit.put_object(Bucket=BUCKET, Key="team-a/y", Body=b"y")
    assert [item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["team-a/x.txt"]
