"""Severity decides the outcome: file rejected, rows rejected, or warnings only; 上报说明 accepts warnings."""

from __future__ import annotations

import json

import pytest
from quality_rows import COUNTY, YEAR, columns_of, good_row

from lowincome.quality import validate_load_table
from lowincome.quality.policy import policy


def _validate(cfg, table, template_name="household_income", columns=None, explanation=None):
    return validate_load_table(cfg, load_table=table, template=template_name, county_code=COUNTY, year=YEAR,
                               columns=columns or columns_of(template_name), explanation=explanation)


def test_a_good_file_passes_every_expectation(cfg, load_table):
    rows = [good_row("households", n) for n in range(1, 4)]
    outcome = _validate(cfg, load_table("households", rows), "households")
    assert not outcome.file_rejected and outcome.findings == [] and outcome.rejected_rows == set()
    assert outcome.results and all(r.success for r in outcome.results)
    assert {r.expectation for r in outcome.results} >= {"not_null", "id_check_digit", "unique_key", "too_many_bad_rows"}
    assert outcome.rows_checked == 3


def test_reject_row_rejects_only_the_bad_rows(cfg, load_table):
    rows = [good_row("households", n) for n in range(1, 7)]
    rows[2]["household_size"] = "abc"
    outcome = _validate(cfg, load_table("households", rows), "households")
    assert not outcome.file_rejected
    assert outcome.rejected_rows == {5}
    (finding,) = [f for f in outcome.findings if f.source_row == 5]
    assert (finding.rule, finding.column, finding.severity) == ("type_int", "household_size", "reject_row")
    assert finding.reason == "“家庭人口”应为整数"
    failed = [r for r in outcome.results if not r.success]
    assert [(r.expectation, r.column, r.unexpected_count) for r in failed] == [("type_int", "household_size", 1)]
    assert "rows 5" in failed[0].observed_value


def test_the_reasons_the_county_reads(cfg, load_table):
    bad = good_row("household_income", 2) | {"net_income": "30000"}
    outcome = _validate(cfg, load_table("household_income", [good_row("household_income", 1), bad]))
    reasons = {f.reason for f in outcome.findings if f.source_row == 4}
    assert "工资性收入、家庭经营收入、财产性收入、转移性收入之和与家庭纯收入相差超过1元" in reasons
    ids = [good_row("households", 1) | {"head_id_number": "330803198001010010"}]
    ids[0]["head_id_number"] = ids[0]["head_id_number"][:17] + ("1" if ids[0]["head_id_number"][17] != "1" else "2")
    found = _validate(cfg, load_table("households", ids), "households").findings
    assert "身份证号校验位错误" in {f.reason for f in found}


def test_more_than_the_share_of_bad_rows_rejects_the_file(cfg, load_table):
    rows = [good_row("households", n) for n in range(1, 11)]
    for row in rows[:3]:  # 30% > 20%
        row["status"] = "不明"
    outcome = _validate(cfg, load_table("households", rows), "households")
    assert outcome.file_rejected and outcome.reason_code == "too_many_bad_rows"
    assert outcome.reason.startswith("有3行（共10行，占30.0%）未通过校验，超过20%")
    assert len(outcome.findings) == 3  # still listed, for the county's feedback

    rows[2]["status"] = "在册"  # 20% is not more than 20%
    assert not _validate(cfg, load_table("households", rows), "households").file_rejected


def test_a_missing_required_column_rejects_the_file(cfg, load_table):
    columns = [c for c in columns_of("households") if c != "head_id_number"]
    table = load_table("households", [good_row("households")], columns=columns)
    outcome = _validate(cfg, table, "households", columns=columns)
    assert outcome.file_rejected and outcome.reason_code == "missing_column"
    assert outcome.reason == "缺少必填列“户主身份证号”，请按模板补齐该列后重新上报"
    assert [(r.expectation, r.column, r.success) for r in outcome.results] == [
        ("missing_column", "head_id_number", False)]


def test_a_file_without_rows_is_rejected(cfg, load_table):
    outcome = _validate(cfg, load_table("villages", []), "villages")
    assert outcome.file_rejected and outcome.reason_code == "no_rows"


def test_a_reject_file_rule_in_the_policy_rejects_the_file(cfg, load_table, monkeypatch):
    from lowincome.quality.policy import RulePolicy

    pol = policy()
    monkeypatch.setitem(pol.rules, "id_check_digit", RulePolicy("reject_file", "身份证号校验位错误，整个文件退回"))
    row = good_row("households", 1)
    row["head_id_number"] = row["head_id_number"][:17] + ("1" if row["head_id_number"][17] != "1" else "2")
    outcome = _validate(cfg, load_table("households", [row, good_row("households", 2)]), "households")
    assert outcome.file_rejected and outcome.reason_code == "id_check_digit"
    assert outcome.reason == "身份证号校验位错误，整个文件退回"


def test_warnings_load_and_a_forced_submission_accepts_them_but_not_rejects(cfg, load_table):
    farm = good_row("program_participation", 1) | {"program": "农家乐"}  # loan columns filled: warn
    bad = good_row("program_participation", 2) | {"persons": "0"}       # reject_row
    others = [good_row("program_participation", n) for n in range(3, 8)]  # 1 bad row in 7: under the 20%
    table = load_table("program_participation", [farm, bad, *others])
    plain = _validate(cfg, table, "program_participation")
    warn = [f for f in plain.findings if f.rule == "microcredit_fields_only"]
    assert [(f.source_row, f.severity, f.accepted) for f in warn] == [(3, "warn", False)]
    assert 3 not in plain.rejected_rows and plain.rejected_rows == {4}

    forced = _validate(cfg, table, "program_participation", explanation="农家乐户同时申请了扶贫小额贷款，已核实。")
    assert all(f.accepted for f in forced.findings if f.severity == "warn")
    assert not any(f.accepted for f in forced.findings if f.severity == "reject_row")
    assert forced.rejected_rows == {4} and not forced.file_rejected


def test_the_explanation_never_overrides_a_file_rejection(cfg, load_table):
    columns = [c for c in columns_of("villages") if c != "village_code"]
    table = load_table("villages", [good_row("villages")], columns=columns)
    outcome = _validate(cfg, table, "villages", columns=columns, explanation="请接收")
    assert outcome.file_rejected


def test_only_ops_load_tables_are_validated(cfg):
    from lowincome.errors import UserError

    with pytest.raises(UserError):
        _validate(cfg, "raw.households", "households")


def test_stored_results_carry_row_numbers_never_values(cfg, load_table):
    """The GX result kept for Data Docs names no head_name or ID number (personal data stays in raw)."""
    row = good_row("households", 7)
    row["head_id_number"] = row["head_id_number"][:17] + ("1" if row["head_id_number"][17] != "1" else "2")
    row["household_size"] = "x9"
    _validate(cfg, load_table("households", [row]), "households")
    stored = sorted((cfg.data_dir / "gx" / "validations").rglob("*.json"), key=lambda p: p.stat().st_mtime)[-1]
    text = stored.read_text(encoding="utf-8")
    assert row["head_id_number"] not in text and row["head_name"] not in text and "x9" not in text
    assert json.loads(text)["meta"]["lowincome"]["template"] == "households"


def test_file_reason_words_match_ingestion(cfg):
    from lowincome.quality.policy import FILE_REASONS

    if not FILE_REASONS.exists():
        pytest.skip("ingestion's file_reasons.yaml not there yet")
    import yaml

    theirs = yaml.safe_load(FILE_REASONS.read_text(encoding="utf-8"))["reasons"]
    for code in ("missing_column", "no_rows"):
        assert policy().rules[code].reason == theirs[code]["reason"]
