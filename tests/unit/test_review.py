"""`ecs-audit review`: formats, placeholders, positions, outputs, base comparison, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from ecs_audit.catalogue import Severity
from ecs_audit.cli import main
from ecs_audit.review.locate import Position, Unresolved, parse_json, parse_yaml
from ecs_audit.review.render import MARKDOWN_LIMIT, render_json, render_markdown, render_sarif
from ecs_audit.review.run import Located, ReviewOptions, exit_code, read_all, review

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = DATA / "review"
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def _review(*paths: Path, **options) -> object:
    return review(list(paths), ReviewOptions(**options))


def _by(result, check: str, container: str | None = None) -> Located:
    found = [r for r in result.results if r.finding.check_id == check and (container is None or r.finding.container == container)]
    assert len(found) == 1, (check, container, [(r.finding.check_id, r.finding.container) for r in found])
    return found[0]


def _line(located: Located) -> str:
    assert located.position is not None
    return Path(located.path).read_text(encoding="utf-8").splitlines()[located.position.line - 1] if Path(located.path).exists() else ""


# --- parsing with positions -------------------------------------------------------------------


def test_json_positions_and_template_actions() -> None:
    parsed = parse_json('{\n  "a": [1, {"b": "x:{{ must_env `T` }}"}],\n  "n": {{ must_env `N` }}\n}')
    assert parsed.value["a"][1]["b"] == Unresolved("x:{{ must_env `T` }}")
    assert parsed.value["n"] == Unresolved("{{ must_env `N` }}")
    assert parsed.positions[("a", 1, "b")] == Position(2, 13)
    assert parsed.positions[("n",)] == Position(3, 3)


def test_yaml_short_tags_load_as_unresolved_with_positions() -> None:
    parsed = parse_yaml("A:\n  B: !Ref X\n  C: !GetAtt [R, Arn]\n  D: 3\n")
    assert parsed.value["A"]["B"] == Unresolved("!Ref X")
    assert parsed.value["A"]["C"].text.startswith("!GetAtt")
    assert parsed.value["A"]["D"] == 3
    assert parsed.positions[("A", "C")] == Position(3, 3)


# --- formats ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("ecspresso/ecs-task-def.json", "ecspresso"),
        ("ecspresso/ecs-service-def.json", "ecspresso"),
        ("cli/register-input.json", "ecs-cli-input"),
        ("cli/describe-output.json", "describe-task-definition"),
        ("cloudformation/service.yaml", "cloudformation"),
        ("cloudformation/cdk.template.json", "cloudformation"),
        ("terraform/plan.json", "terraform-plan"),
    ],
)
def test_each_format_is_recognised(path: str, fmt: str) -> None:
    [result] = read_all([SAMPLES / path])
    assert result.format == fmt and result.docs, result


def test_jsonnet_is_skipped_with_a_message() -> None:
    result = _review(SAMPLES / "ecspresso" / "ecs-task-def.jsonnet")
    assert result.results == []
    assert any("Jsonnet is not evaluated" in n for n in result.notes)


def test_ecspresso_placeholders_make_exactly_the_checks_that_read_them_unknown() -> None:
    result = _review(SAMPLES / "ecspresso")
    image = _by(result, "IMAGE-001", "app").finding
    assert image.status.value == "UNKNOWN" and "{{ must_env `IMAGE_TAG` }}" in image.message
    role = _by(result, "SECURITY-008").finding
    assert role.status.value == "UNKNOWN" and "tfstate" in role.message
    # Fixed values still decide.
    assert _by(result, "SECURITY-002", "app").finding.status.value == "PASS"
    assert _by(result, "TASKDEF-004", "app").finding.status.value == "PASS"
    # The service definition is paired with the task definition of its directory.
    assert _by(result, "NETWORK-001").finding.status.value == "FAIL"
    replicas = _by(result, "RESILIENCE-002").finding
    assert replicas.status.value == "UNKNOWN"
    fields = {p["field"] for p in result.placeholders}
    assert {"containerDefinitions[0].image", "taskRoleArn", "desiredCount"} <= fields


def test_environment_values_are_never_printed(catalogue) -> None:
    result = _review(SAMPLES / "cli" / "register-input.json", SAMPLES / "ecspresso")
    assert _by(result, "SECURITY-006", "worker").finding.status.value == "FAIL"
    for text in (render_markdown(result), render_json(result), render_sarif(result, catalogue)):
        assert "wJalrXUtnFEMI" not in text
        assert "DB_PASSWORD` }}" not in text  # a placeholder in an env value is not echoed either


def test_cloudformation_intrinsics_and_same_template_reference() -> None:
    result = _review(SAMPLES / "cloudformation" / "service.yaml")
    privileged = _by(result, "SECURITY-002", "shop")
    assert privileged.finding.status.value == "FAIL"
    assert "Privileged: true" in _line(privileged)
    assert "!Sub" in _by(result, "IMAGE-001", "shop").finding.message
    assert "!Ref Subnets" in _by(result, "RESILIENCE-001").finding.message
    # TaskDefinition: !Ref TaskDef is the definition of the same template: TASKDEF checks of the service's
    # definition are not blocked by it, and the service is judged.
    assert _by(result, "CICD-005").finding.status.value == "WARN"
    cdk = _review(SAMPLES / "cloudformation" / "cdk.template.json")
    assert "Fn::Join" in _by(cdk, "IMAGE-001", "web").finding.message
    assert _by(cdk, "TASKDEF-004", "web").finding.status.value == "FAIL"


def test_terraform_plan_unknowns() -> None:
    result = _review(SAMPLES / "terraform" / "plan.json")
    assert _by(result, "NETWORK-001").finding.status.value == "FAIL"  # assign_public_ip = true
    assert "known after apply" in _by(result, "SECURITY-008").finding.message
    assert _by(result, "TASKDEF-004", "app").finding.status.value == "PASS"  # from the container_definitions string


def test_describe_output_keeps_its_revision_and_points_at_fields() -> None:
    result = _review(SAMPLES / "cli" / "describe-output.json")
    user = _by(result, "SECURITY-003", "api")
    assert user.finding.resource.name == "api:7" and user.finding.status.value == "FAIL"
    assert '"user": "root"' in _line(user)


# --- outputs -----------------------------------------------------------------------------------


def test_sarif_is_valid_and_regions_point_at_the_offending_lines(catalogue) -> None:
    result = _review(SAMPLES / "change" / "after", base=[SAMPLES / "change" / "before"])
    document = json.loads(render_sarif(result, catalogue))
    Draft4Validator(SCHEMA).validate(document)
    results = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]): r for r in document["runs"][0]["results"]}
    privileged = results[("SECURITY-002", "checkout/debug-agent")]
    location = privileged["locations"][0]["physicalLocation"]
    lines = Path(location["artifactLocation"]["uri"]).read_text().splitlines()
    line = lines[location["region"]["startLine"] - 1]
    assert line[location["region"]["startColumn"] - 1 :].startswith('"privileged": true')
    assert privileged["baselineState"] == "new" and privileged["level"] == "error"
    health = results[("TASKDEF-004", "checkout/app")]["locations"][0]["physicalLocation"]["region"]
    assert '"essential": true' in lines[health["startLine"] - 1]


def test_markdown_puts_new_findings_first_and_stays_under_the_comment_limit(catalogue) -> None:
    result = _review(SAMPLES / "change" / "after", base=[SAMPLES / "change" / "before"])
    text = render_markdown(result)
    new_at = text.index("### New findings")
    assert text.index("SECURITY-002") > new_at and text.index("TASKDEF-004") > new_at
    assert new_at < text.index("### Fixed by this change") < text.index("Not decided")
    # A huge review is cut, with a note.
    result.results = result.results * 400
    big = render_markdown(result)
    assert len(big) < 65_536 and len(big) > MARKDOWN_LIMIT // 2
    assert "longer than a pull-request comment allows" in big


def test_base_comparison_reports_fixed(catalogue) -> None:
    result = _review(SAMPLES / "change" / "before", base=[SAMPLES / "change" / "after"])
    fixed = {(f.finding.check_id, f.finding.container) for f in result.fixed}
    assert fixed == {("SECURITY-002", "debug-agent"), ("TASKDEF-004", "app")}
    assert not [r for r in result.results if r.change == "new"]


def test_fail_on_counts_only_new_fails_with_a_base() -> None:
    result = _review(SAMPLES / "change" / "after", base=[SAMPLES / "change" / "before"])
    assert exit_code(result.results, Severity.CRITICAL, only_new=True) == 1
    same = _review(SAMPLES / "change" / "after", base=[SAMPLES / "change" / "after"])
    assert exit_code(same.results, Severity.CRITICAL, only_new=True) == 0
    assert exit_code(same.results, Severity.CRITICAL, only_new=False) == 1


def test_base_rev_reads_the_file_at_a_git_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    target = tmp_path / "ecs-task-def.json"
    target.write_text((SAMPLES / "change" / "before" / "ecs-task-def.json").read_text())
    git("add", "-A")
    git("commit", "-qm", "before")
    target.write_text((SAMPLES / "change" / "after" / "ecs-task-def.json").read_text())
    monkeypatch.chdir(tmp_path)
    result = _review(target, base_rev="HEAD")
    new = {(r.finding.check_id, r.finding.container) for r in result.results if r.change == "new"}
    assert new == {("SECURITY-002", "debug-agent"), ("TASKDEF-004", "app")}
    assert main(["review", str(target), "--base-rev", "no-such-rev"]) == 2


# --- the command --------------------------------------------------------------------------------


def test_cli_outputs_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = str(SAMPLES / "cli" / "register-input.json")
    assert main(["review", sample, "--fail-on", "critical", "-f", "md,json,sarif", "-o", str(tmp_path / "out")]) == 1
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"review.md", "review.json", "review.sarif"}
    assert main(["review", sample, "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    privileged = next(f for f in doc["findings"] if f["check_id"] == "SECURITY-002")
    assert privileged["location"] == {"file": privileged["location"]["file"], "line": 14, "column": 7}
    assert main(["review", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "other.json").write_text('{"hello": 1}')
    assert main(["review", str(tmp_path / "other.json")]) == 2
    assert main(["review", str(tmp_path / "other.json"), sample, "--ignore-unknown"]) == 0
    (tmp_path / "broken.json").write_text('{"family": ')
    assert main(["review", str(tmp_path / "broken.json")]) == 2
    assert main(["review", sample, "-f", "md,json"]) == 2  # several formats need --output-dir
    err = capsys.readouterr().err
    assert "Traceback" not in err


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    yield path


def _replace(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]


@pytest.mark.parametrize("sample", ["cli/register-input.json", "ecspresso/ecs-service-def.json", "change/after/ecs-task-def.json"])
def test_a_placeholder_anywhere_never_crashes_a_check_or_the_run(sample: str, catalogue) -> None:
    """Every field (and every object) of a definition replaced in turn by a template action: the
    review runs, and no check crashes on it (it decides, or is UNKNOWN naming what is missing)."""
    from ecs_audit.config import AuditConfig
    from ecs_audit.review.formats import recognise
    from ecs_audit.review.locate import Parsed
    from ecs_audit.review.run import evaluate_files

    text = (SAMPLES / sample).read_text()
    data = parse_json(text).value
    paths = [p for p in _leaves(data) if p]
    assert len(paths) > 15
    for path in paths:
        mutated = _replace(data, path, Unresolved("{{ must_env `X` }}"))
        files = [recognise(Parsed(mutated, {}), sample)]
        results, _, _ = evaluate_files(files, catalogue, AuditConfig())
        assert results, path
        crashed = [(r.finding.check_id, r.finding.message) for r in results if "crashed" in r.finding.message]
        assert not crashed, (path, crashed)


def test_two_files_of_the_same_family_are_both_reviewed() -> None:
    result = _review(SAMPLES / "change" / "before", SAMPLES / "change" / "after")
    privileged = [r for r in result.results if r.finding.check_id == "SECURITY-002"]
    assert {(r.finding.resource.name, r.finding.container, r.finding.status.value) for r in privileged} == {
        ("checkout:1", "app", "PASS"), ("checkout:2", "app", "PASS"), ("checkout:2", "debug-agent", "FAIL")}
    assert {Path(r.path).parent.name for r in privileged if r.finding.resource.name == "checkout:2"} == {"after"}
    assert {Path(r.path).parent.name for r in privileged if r.finding.resource.name == "checkout:1"} == {"before"}
