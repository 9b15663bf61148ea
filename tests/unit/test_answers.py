"""The MANUAL questionnaire: always in the report, answered through --answers, shown with who/when/why."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ecs_audit.answers import AnswerEntry, AnswersFile, add_questionnaire, load_answers, questions
from ecs_audit.cli import main
from ecs_audit.errors import UsageError
from ecs_audit.findings import Status
from ecs_audit.inventory.snapshot import AccountInventory, Inventory, RegionInventory, save_snapshot
from ecs_audit.pipeline import ReportOptions, finish
from ecs_audit.report.model import Report
from ecs_audit.report.model import report_from_data, report_from_json  # noqa: F401
from tests.support import golden_estate
from tests.support.estate import ACCOUNT


def _write(tmp_path: Path, content, name: str = "answers.yaml") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def _answer(**overrides) -> dict:
    entry = {"id": "MANUAL-004", "answer": "yes", "who": "jane@example.com", "when": "2026-10-20", "note": "load tested"}
    entry.update(overrides)
    return entry


def test_every_manual_question_is_in_every_report(tmp_path, catalogue) -> None:
    ids = [q.id for q in questions(catalogue)]
    assert ids and all(i.startswith("MANUAL-") for i in ids)
    report = finish(golden_estate.inventory("current"), ReportOptions(output_dir=tmp_path, formats=("json",)), catalogue=catalogue).report
    manual = [f for f in report.findings if f.check_id in ids]
    assert sorted(f.check_id for f in manual) == sorted(ids)
    for f in manual:
        assert f.status is Status.MANUAL and f.answer is None
        assert f.resource.type == "AWS::::Account" and f.resource.arn == f"arn:aws:iam::{ACCOUNT}:root"
        assert f.cluster is None
    assert report.summary.by_status["MANUAL"] == len(ids)


def test_one_questionnaire_per_audit_on_the_first_account(catalogue) -> None:
    def account(account_id: str, *regions: str) -> AccountInventory:
        return AccountInventory(account_id=account_id, regions=[RegionInventory(account_id=account_id, region=r) for r in regions])

    at = golden_estate.GENERATED_AT
    inventory = Inventory(
        tool_version="t", collected_at=at, accounts=[account("222222222222", "us-east-1"), account("111111111111", "eu-west-1", "ap-south-1")]
    )
    findings = add_questionnaire([], catalogue, inventory, None)
    assert len(findings) == len(questions(catalogue))
    assert {(f.account_id, f.region) for f in findings} == {("111111111111", "ap-south-1")}
    assert add_questionnaire([], catalogue, Inventory(tool_version="t", collected_at=at, accounts=[]), None) == []
    # Applied twice (or to results that already hold MANUAL entries), the questionnaire is not duplicated.
    assert len(add_questionnaire(findings, catalogue, inventory, None)) == len(findings)


def test_answers_decide_the_status_and_are_shown(tmp_path, catalogue) -> None:
    path = _write(
        tmp_path,
        "- {id: MANUAL-004, answer: yes, who: jane@example.com, when: 2026-10-20, note: k6 load test}\n"
        "- {id: MANUAL-010, answer: no, who: ops, when: 2026-10-21, note: not written down}\n"
        "- {id: MANUAL-005, answer: n.a., who: jane, when: 2026-10-20, note: no persistent storage}\n"
        "- {id: MANUAL-006, answer: 'Yes', who: dev, when: '2026-10-22'}\n",
    )
    answers = load_answers(path, catalogue)
    assert [e.answer for e in answers.entries] == ["yes", "no", "n.a.", "yes"]
    findings = {f.check_id: f for f in add_questionnaire([], catalogue, golden_estate.inventory("current"), answers)}
    assert findings["MANUAL-004"].status is Status.PASS
    assert findings["MANUAL-010"].status is Status.FAIL
    assert findings["MANUAL-005"].status is Status.NOT_APPLICABLE
    assert findings["MANUAL-006"].status is Status.PASS
    assert findings["MANUAL-001"].status is Status.MANUAL
    answer = findings["MANUAL-004"].answer
    assert (answer.answer, answer.who, answer.when, answer.note) == ("yes", "jane@example.com", "2026-10-20", "k6 load test")
    assert findings["MANUAL-010"].message == "answered no by ops on 2026-10-21: not written down"


def test_reports_show_the_questionnaire(tmp_path) -> None:
    outcome = golden_estate.run(tmp_path, formats=("html", "md", "json"))
    html = (tmp_path / "current" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "current" / "report.md").read_text(encoding="utf-8")
    assert 'id="questionnaire"' in html and "3 of 12 answered" in html
    section = html.split('id="questionnaire"', 1)[1].split("</section>", 1)[0]
    assert "jane.doe@example.com" in section and "2026-10-20" in section and "k6 load test" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "<script>alert" not in section
    assert "### Questionnaire" in md and "3 of 12 answered" in md
    assert "jane.doe\\@example.com" in md or "jane.doe@example.com" in md
    data = report_from_json((tmp_path / "current" / "report.json").read_text(encoding="utf-8"))
    answered = {f.check_id: f.answer for f in data.findings if f.answer}
    assert set(answered) == {"MANUAL-004", "MANUAL-005", "MANUAL-010"}
    assert outcome.report == data


BAD = [
    ("missing", None, ["no such file"]),
    ("invalid yaml", "- {id: MANUAL-001\n", ["invalid YAML"]),
    ("not a list", "id: MANUAL-001\n", ["expected a YAML list"]),
    ("unknown id", [_answer(id="MANUAL-999")], ["entry 1", "'id'", "unknown question id 'MANUAL-999'"]),
    ("automated id", [_answer(id="SECURITY-001")], ["entry 1", "SECURITY-001 is an automated check"]),
    ("duplicate", [_answer(), _answer()], ["entry 2", "already answered in entry 1"]),
    ("bad answer", [_answer(answer="maybe")], ["entry 1", "'answer'", "'maybe' is not an answer", "yes, no or n.a."]),
    ("bad date", [_answer(when="yesterday")], ["entry 1", "'when'", "not a date", "YYYY-MM-DD"]),
    ("missing who", [{k: v for k, v in _answer().items() if k != "who"}], ["entry 1", "'who' is missing"]),
    ("extra field", [_answer(comment="x")], ["entry 1", "unknown field 'comment'"]),
    ("n.a. without note", [_answer(answer="n.a.", note="")], ["entry 1", "'note' is required for an n.a. answer"]),
]


@pytest.mark.parametrize("name,content,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_one_line_usage_errors(tmp_path, catalogue, name, content, expected) -> None:
    path = tmp_path / "missing.yaml" if content is None else _write(tmp_path, content)
    with pytest.raises(UsageError) as raised:
        load_answers(path, catalogue)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"answers {path}: ")
    for part in expected:
        assert part in message, message


def test_yaml_booleans_are_answers() -> None:
    assert AnswerEntry.model_validate(_answer(answer=True)).answer == "yes"
    assert AnswerEntry.model_validate(_answer(answer=False)).answer == "no"
    assert AnswerEntry.model_validate(_answer(answer="N/A")).answer == "n.a."


def test_cli_answers(tmp_path, capsys) -> None:
    snapshot = tmp_path / "snap.json"
    save_snapshot(golden_estate.inventory("current"), snapshot)
    _, answers = golden_estate.write_inputs(tmp_path)
    code = main(["evaluate", str(snapshot), "--answers", str(answers), "-o", str(tmp_path / "out"), "--format", "json"])
    assert code == 0
    assert "9 MANUAL questions are open" in capsys.readouterr().out
    bad = _write(tmp_path, [_answer(answer="perhaps")], "bad.yaml")
    assert main(["evaluate", str(snapshot), "--answers", str(bad), "-o", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'perhaps' is not an answer" in err


def test_answers_file_helper() -> None:
    entry = AnswerEntry.model_validate(_answer())
    assert AnswersFile(path=Path("a.yaml"), entries=(entry,)).get("MANUAL-004") is entry
    assert AnswersFile(path=Path("a.yaml"), entries=(entry,)).get("MANUAL-001") is None
