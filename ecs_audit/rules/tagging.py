"""Checks of the TAGGING area (see checks/tagging.yaml)."""

from __future__ import annotations

from ecs_audit.catalogue import Severity
from ecs_audit.evaluation.subjects import ClusterSubject, ServiceSubject, TaskDefSubject
from ecs_audit.findings import Verdict, fail, na, ok, warn
from ecs_audit.rules.registry import check


@check("TAGGING-001")
def managed_tags_and_propagation(s: ServiceSubject) -> Verdict:
    service = s.service
    # API defaults: managed tags off, propagateTags NONE.
    managed = bool(service.enable_ecs_managed_tags)
    propagate = service.propagate_tags or "NONE"
    evidence = {"enable_ecs_managed_tags": managed, "propagate_tags": propagate}
    problems = []
    if not managed:
        problems.append("ECS managed tags are off")
    if propagate == "NONE":
        problems.append("tags are not propagated to tasks (propagateTags NONE)")
    if problems:
        return fail("; ".join(problems), evidence)
    return ok(f"ECS managed tags are on and tags propagate from {propagate}", evidence)


@check("TAGGING-002")
def required_tags_present(subject: ClusterSubject | ServiceSubject | TaskDefSubject) -> Verdict:
    required = subject.estate.config.required_tags
    if not required:
        return na("no required tags are configured")
    tags = subject.tags
    missing = [key for key in required if key not in tags]
    evidence: dict[str, object] = {"required_tags": required, "missing": missing}
    if missing:
        # Tag keys are case-sensitive; point out near misses.
        near = {key: other for key in missing for other in tags if other.lower() == key.lower()}
        if near:
            evidence["case_mismatch"] = near
        hint = "".join(f" ({key!r} is spelled {other!r})" for key, other in near.items())
        return fail(f"missing required tag{'s' if len(missing) > 1 else ''}: {', '.join(missing)}{hint}", evidence)
    return ok(f"all required tags are present: {', '.join(required)}", evidence)


@check("TAGGING-003")
def version_tag_present(t: TaskDefSubject) -> Verdict:
    keys = t.estate.config.version_tag_keys
    found = [key for key in keys if key in t.tags]
    evidence = {"version_tag_keys": keys, "found": found}
    if not found:
        return warn(f"no application-version tag ({', '.join(keys)})", evidence, severity=Severity.INFO)
    return ok(f"the revision carries {found[0]}={t.tags[found[0]]}", evidence)
