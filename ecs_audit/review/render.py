"""The review's outputs: Markdown for a pull-request comment, SARIF with physical locations, JSON."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from ecs_audit import __version__
from ecs_audit.catalogue import Catalogue, Severity
from ecs_audit.findings import Status
from ecs_audit.report.filters import clean, md, md_html
from ecs_audit.review.run import Located, Review

# GitHub refuses comments longer than 65,536 characters; leave room for the footer.
MARKDOWN_LIMIT = 60_000
_BAD = (Status.FAIL, Status.WARN)
_LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}
_SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _where(item: Located) -> str:
    pos = f":{item.position.line}" if item.position else ""
    return f"`{item.path}{pos}`".replace("|", "\\|") if "`" not in item.path else md(item.path + pos)


def _resource(item: Located) -> str:
    f = item.finding
    return md(f.resource.name.rsplit(":", 1)[0] + (f" / {f.container}" if f.container else ""), 120)


def _rows(items: list[Located]) -> list[str]:
    rows = ["| Severity | Status | Check | Resource | Where | Finding |", "|---|---|---|---|---|---|"]
    for item in items:
        f = item.finding
        rows.append(f"| {f.severity.value} | {f.status.value} | {md(f.check_id)} {md(f.title, 80)} | {_resource(item)} | {_where(item)} | {md(f.message, 300)} |")
    return rows


def _order(items: list[Located]) -> list[Located]:
    return sorted(items, key=lambda l: (-l.finding.status.rank, -l.finding.severity.rank, l.finding.check_id, l.path, l.position.line if l.position else 0))


def render_markdown(review: Review) -> str:
    results = review.results
    bad = [r for r in results if r.finding.status in _BAD]
    new = [r for r in bad if r.change == "new"] if review.base is not None else bad
    unchanged = [r for r in bad if r.change == "unchanged"]
    unknown = [r for r in results if r.finding.status is Status.UNKNOWN]
    passed = [r for r in results if r.finding.status is Status.PASS]
    blocks: list[list[str]] = []
    head = ["## ecs-audit review", ""]
    files = sorted({f.path for f in review.files if f.docs})
    counts = f"{sum(r.finding.status is Status.FAIL for r in new)} FAIL, {sum(r.finding.status is Status.WARN for r in new)} WARN"
    if review.base is not None:
        head.append(f"Compared with {md(review.base)}: **{counts} introduced**, **{len(review.fixed)} fixed**, {len(unchanged)} unchanged; "
                    f"{len(passed)} PASS, {len(unknown)} UNKNOWN. Files: {md(', '.join(files), 500)}")
    else:
        head.append(f"**{counts}**; {len(passed)} PASS, {len(unknown)} UNKNOWN. Files: {md(', '.join(files), 500)}")
    blocks.append(head)
    title = "### New findings (introduced by this change)" if review.base is not None else "### Findings"
    blocks.append(["", title, ""] + (_rows(_order(new)) if new else ["None."]))
    if review.base is not None:
        blocks.append(["", "### Fixed by this change", ""] + (_rows(_order(review.fixed)) if review.fixed else ["None."]))
        if unchanged:
            blocks.append(["", f"<details><summary>Unchanged findings ({len(unchanged)})</summary>", ""] + _rows(_order(unchanged)) + ["", "</details>"])
    if unknown:
        blocks.append(["", f"<details><summary>Not decided ({len(unknown)} UNKNOWN: values the file does not fix, or account data; <code>--live</code> reads the account)</summary>", ""]
                      + _rows(_order(unknown)) + ["", "</details>"])
    if review.placeholders:
        lines = ["", f"<details><summary>Values not fixed by the file ({len(review.placeholders)})</summary>", "", "| File | Resource | Field | Stands for |", "|---|---|---|---|"]
        lines += [f"| {md(p['file'])} | {md(p['resource'])} | {md(p['field'])} | {md(p['value'], 200)} |" for p in review.placeholders]
        blocks.append(lines + ["", "</details>"])
    if review.notes:
        blocks.append(["", "### Files not reviewed or partly reviewed", ""] + [f"- {md(n, 400)}" for n in review.notes])
    blocks.append(["", f"<sub>ecs-audit {md(__version__)} · not selected in a review (they judge what runs, not a definition): {md(', '.join(sorted(review.not_selected)))}</sub>", ""])
    out = ""
    for index, block in enumerate(blocks):
        text = "\n".join(block) + "\n"
        if len(out) + len(text) > MARKDOWN_LIMIT:
            lines_kept = []
            for line in block:
                if len(out) + sum(len(l) + 1 for l in lines_kept) + len(line) + 200 > MARKDOWN_LIMIT:
                    break
                lines_kept.append(line)
            shown = "\n".join(lines_kept)
            out += shown + ("\n</details>\n" if "<details>" in shown else "\n")
            out += "\n_The review is longer than a pull-request comment allows; the rest is in the JSON and SARIF outputs._\n"
            break
        out += text
    return out


def _json_item(item: Located) -> dict[str, Any]:
    f = item.finding
    out = json.loads(f.model_dump_json())
    out["location"] = {"file": item.path, **({"line": item.position.line, "column": item.position.column} if item.position else {})}
    if item.change:
        out["change"] = item.change
    return out


def render_json(review: Review) -> str:
    document = {
        "tool": {"name": "ecs-audit", "version": __version__},
        "kind": "review",
        "base": review.base,
        "files": [{"path": f.path, "format": f.format, "resources": [d.name for d in f.docs], **({"note": f.note} if f.note else {})} for f in review.files],
        "findings": [_json_item(r) for r in review.results],
        "fixed": [_json_item(r) for r in review.fixed],
        "placeholders": review.placeholders,
        "notes": review.notes,
        "not_selected": review.not_selected,
    }
    return json.dumps(_clean(document), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def render_sarif(review: Review, catalogue: Catalogue) -> str:
    entries = {e.id: e for e in catalogue.checks}
    used = sorted({r.finding.check_id for r in review.results if r.finding.status in _BAD})
    rules = []
    for check_id in used:
        entry = entries.get(check_id)
        rule: dict[str, Any] = {"id": check_id, "shortDescription": {"text": entry.title if entry else check_id}}
        if entry:
            rule["fullDescription"] = {"text": entry.rationale}
            rule["help"] = {"text": entry.remediation}
            rule["defaultConfiguration"] = {"level": _LEVELS[entry.severity]}
            link = next((r.url for r in entry.references if r.url and r.url.startswith("https://")), None)
            if link:
                rule["helpUri"] = link
        rules.append(rule)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for item in review.results:
        f = item.finding
        if f.status not in _BAD:
            continue
        region: dict[str, int] = {"startLine": item.position.line, "startColumn": item.position.column} if item.position else {"startLine": 1}
        name = f.resource.name.rsplit(":", 1)[0] + (f"/{f.container}" if f.container else "")
        key = "\x1f".join((f.check_id, item.path, name))
        result: dict[str, Any] = {
            "ruleId": f.check_id,
            "ruleIndex": index[f.check_id],
            "level": _LEVELS[f.severity],
            "message": {"text": f"{f.message} ({name})"},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": quote(item.path, safe="/-._~")}, "region": region},
                "logicalLocations": [{"name": name, "kind": "resource"}],
            }],
            "partialFingerprints": {"ecsAuditReview/v1": hashlib.sha256(key.encode("utf-8")).hexdigest()},
            "properties": {"status": f.status.value, "severity": f.severity.value},
        }
        if item.change:
            result["baselineState"] = item.change
        results.append(result)
    for item in review.fixed:
        f = item.finding
        results.append({
            "ruleId": f.check_id, "level": "none", "kind": "pass", "baselineState": "absent",
            "message": {"text": f"fixed by this change: {f.message}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": quote(item.path, safe="/-._~")}}}],
        })
    run = {
        "tool": {"driver": {"name": "ecs-audit", "version": __version__, "semanticVersion": __version__, "rules": rules}},
        "invocations": [{"executionSuccessful": True, **({"toolConfigurationNotifications": [{"level": "note", "message": {"text": n}} for n in review.notes]} if review.notes else {})}],
        "results": results,
    }
    return json.dumps(_clean({"$schema": _SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


FORMATS = {"md": "review.md", "json": "review.json", "sarif": "review.sarif"}


def render(review: Review, fmt: str, catalogue: Catalogue) -> str:
    if fmt == "md":
        return render_markdown(review)
    if fmt == "json":
        return render_json(review)
    return render_sarif(review, catalogue)


def write_outputs(review: Review, formats: list[str], output_dir: Any, catalogue: Catalogue) -> list[Any]:
    """Every file rendered in full first, then each written to a temporary name and moved into place."""
    from pathlib import Path

    rendered = {fmt: render(review, fmt, catalogue) for fmt in formats}
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, text in rendered.items():
        target = directory / FORMATS[fmt]
        tmp = directory / f".{target.name}.tmp"
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(target)
    return written
