"""Calls sent ahead (CollectContext.prefetch): the collector's own call takes the answer instead of
sending again, and a failure is recorded only when taken, so an answer nobody takes leaves no trace."""

from __future__ import annotations

from ecs_audit.collect.base import CollectContext
from ecs_audit.session import ALLOWED_ACTIONS, ClientFactory
from tests.support.fake_api import ApiFault, FakeApi

ACCOUNT = "123456789012"


def _context(api: FakeApi) -> CollectContext:
    return CollectContext(ClientFactory(api.session("eu-west-1"), ALLOWED_ACTIONS), ACCOUNT, "eu-west-1")


def test_the_call_takes_the_answer_sent_ahead():
    api = FakeApi()
    api.on("inspector2.GetConfiguration", lambda p: {"ecrConfiguration": {"rescanDurationState": {"rescanDuration": "DAYS_30"}}})
    ctx = _context(api)
    ctx.prefetch("inspector2", "GetConfiguration")
    ctx.prefetch("inspector2", "GetConfiguration")  # asked twice, sent once
    response = ctx.call("inspector2", "GetConfiguration")
    assert isinstance(response, dict) and response["ecrConfiguration"]["rescanDurationState"]["rescanDuration"] == "DAYS_30"
    # Taken once: a second call is sent again.
    ctx.call("inspector2", "GetConfiguration")
    ctx.settle()
    assert api.calls["inspector2.GetConfiguration"] == 2 and ctx.errors == []


def test_other_arguments_are_another_call():
    api = FakeApi()
    api.on("inspector2.BatchGetAccountStatus", lambda p: {"accounts": [], "failedAccounts": []})
    ctx = _context(api)
    ctx.prefetch("inspector2", "BatchGetAccountStatus", accountIds=["111111111111"])
    ctx.call("inspector2", "BatchGetAccountStatus", accountIds=[ACCOUNT])
    ctx.settle()
    assert sorted(p["accountIds"][0] for _, p in api.requests) == ["111111111111", ACCOUNT]


def test_a_failure_is_recorded_only_when_taken():
    api = FakeApi()

    def denied(p):
        raise ApiFault("AccessDeniedException", "not authorized to perform ecr:GetRegistryScanningConfiguration")

    api.on("ecr.GetRegistryScanningConfiguration", denied)
    untaken = _context(api)
    untaken.prefetch("ecr", "GetRegistryScanningConfiguration")
    untaken.settle()
    assert untaken.errors == []

    taken = _context(api)
    taken.prefetch("ecr", "GetRegistryScanningConfiguration")
    assert taken.call("ecr", "GetRegistryScanningConfiguration") is None
    assert [(e.action, e.error_code) for e in taken.errors] == [("ecr:GetRegistryScanningConfiguration", "AccessDeniedException")]
    assert api.calls["ecr.GetRegistryScanningConfiguration"] == 2  # one for each context
