"""Reading ECR repository policies for public and cross-account access (IMAGE-009).

Only Allow statements grant anything. A statement is public when its Principal is "*" (or {"AWS": "*"},
alone or in a list) or when it uses NotPrincipal, unless a condition restricts who can use it: a
positive match (not a Not... operator, not ...IfExists, not ForAllValues:) on a key that names the
caller's organisation, account, ARN or network origin, with a value other than "*". A cross-account
statement names another account (an account id or an IAM ARN in it); it is acceptable only under an
organisation condition (aws:PrincipalOrgID or aws:PrincipalOrgPaths).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Condition keys that narrow a wildcard principal to known callers.
RESTRICTING_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
    }
)
ORGANISATION_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})

_ACCOUNT = re.compile(r"^\d{12}$")
_IAM_ARN = re.compile(r"^arn:[^:]+:(?:iam|sts)::(\d{12}):")


class PolicyUnreadable(ValueError):
    """The policy text is not a JSON policy document."""


@dataclass(frozen=True)
class StatementAccess:
    sid: str
    actions: list[str]
    principals: list[str] = field(default_factory=list)  # the wildcard, or the other accounts

    def describe(self) -> str:
        actions = ", ".join(self.actions) or "no action"
        return f"statement {self.sid} allows {', '.join(self.principals)} {actions}"


@dataclass(frozen=True)
class PolicyAccess:
    public: list[StatementAccess]
    cross_account: list[StatementAccess]  # other accounts without an organisation condition
    organisation_limited: list[StatementAccess]  # other accounts, under an organisation condition
    restricted: list[StatementAccess]  # wildcard principals narrowed by a restricting condition
    restricting_keys: list[str]  # the condition keys that narrowed them


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _condition_keys(condition: Any) -> dict[str, str]:
    """Keys (lower-case -> as written) the condition restricts positively to something other than "*"."""
    keys: dict[str, str] = {}
    if not isinstance(condition, dict):
        return keys
    for operator, pairs in condition.items():
        name = str(operator).lower()
        if "not" in name or name.endswith("ifexists") or name.startswith("forallvalues:") or name == "null":
            continue
        if not isinstance(pairs, dict):
            continue
        for key, value in pairs.items():
            values = [str(v).strip() for v in _as_list(value)]
            if values and not all(v in ("", "*") for v in values):
                keys[str(key).lower()] = str(key)
    return keys


def _aws_principals(principal: Any) -> list[str]:
    if principal == "*" or isinstance(principal, str):
        return [str(principal)]
    if isinstance(principal, dict):
        return [str(p) for p in _as_list(principal.get("AWS"))]
    return []


def _account_of(principal: str) -> str | None:
    text = principal.strip()
    if _ACCOUNT.match(text):
        return text
    match = _IAM_ARN.match(text)
    return match.group(1) if match else None


def analyse(policy_text: str, account_id: str) -> PolicyAccess:
    """Who outside this account a repository policy lets in; PolicyUnreadable if it is not a policy."""
    try:
        document = json.loads(policy_text)
    except (TypeError, ValueError) as exc:
        raise PolicyUnreadable(f"the repository policy is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyUnreadable("the repository policy is not a JSON object")
    public: list[StatementAccess] = []
    cross: list[StatementAccess] = []
    organisation: list[StatementAccess] = []
    restricted: list[StatementAccess] = []
    used_keys: set[str] = set()
    for index, statement in enumerate(_as_list(document.get("Statement"))):
        if not isinstance(statement, dict) or str(statement.get("Effect", "")).lower() != "allow":
            continue
        sid = str(statement.get("Sid") or f"#{index + 1}")
        actions = [str(a) for a in _as_list(statement.get("Action") or statement.get("NotAction"))]
        keys = _condition_keys(statement.get("Condition"))
        if "NotPrincipal" in statement:
            principals = ["everyone (NotPrincipal)"]
        else:
            principals = _aws_principals(statement.get("Principal"))
        if "NotPrincipal" in statement or "*" in principals:
            access = StatementAccess(sid, actions, ["*" if "*" in principals else principals[0]])
            narrowing = [written for key, written in keys.items() if key in RESTRICTING_KEYS]
            if narrowing:
                restricted.append(access)
                used_keys.update(narrowing)
            else:
                public.append(access)
            continue
        others = sorted({a for a in (_account_of(p) for p in principals) if a and a != account_id})
        if not others:
            continue
        access = StatementAccess(sid, actions, [f"account {a}" for a in others])
        (organisation if ORGANISATION_KEYS & set(keys) else cross).append(access)
    return PolicyAccess(
        public=public,
        cross_account=cross,
        organisation_limited=organisation,
        restricted=restricted,
        restricting_keys=sorted(used_keys),
    )
