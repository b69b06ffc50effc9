"""The reviewed validation policy (``include/config/validation.yaml``): severities, reasons, thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lowincome.errors import UserError

POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "validation.yaml"
# Ingestion's table of file-level reasons; a code both sides report takes its words from there.
FILE_REASONS = POLICY_FILE.with_name("file_reasons.yaml")
SEVERITIES = ("reject_file", "reject_row", "warn")


@dataclass(frozen=True)
class RulePolicy:
    severity: str
    reason: str


@dataclass(frozen=True)
class Policy:
    rules: dict[str, RulePolicy]
    thresholds: dict[str, Any]
    pattern_descriptions: dict[str, str]

    def severity(self, rule: str) -> str:
        return self._rule(rule).severity

    def reason(self, rule: str, **params: Any) -> str:
        return self._rule(rule).reason.format(**params)

    def threshold(self, name: str) -> Any:
        try:
            return self.thresholds[name]
        except KeyError:
            raise UserError(f"{POLICY_FILE.name} has no threshold {name!r}; add it under `thresholds:`") from None

    def _rule(self, rule: str) -> RulePolicy:
        try:
            return self.rules[rule]
        except KeyError:
            raise UserError(f"{POLICY_FILE.name} has no entry for rule {rule!r}; add its severity and reason") from None


@cache
def policy(path: Path = POLICY_FILE) -> Policy:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = {}
    for rule, spec in doc["rules"].items():
        if spec.get("severity") not in SEVERITIES:
            raise UserError(f"{path.name}: rule {rule!r} has severity {spec.get('severity')!r}; "
                            f"use one of {', '.join(SEVERITIES)}")
        rules[rule] = RulePolicy(severity=spec["severity"], reason=str(spec["reason"]))
    if FILE_REASONS.exists():
        shared = yaml.safe_load(FILE_REASONS.read_text(encoding="utf-8")).get("reasons", {})
        for code, spec in shared.items():
            if code in rules and rules[code].severity == "reject_file":
                rules[code] = RulePolicy(severity="reject_file", reason=str(spec["reason"]))
    return Policy(rules=rules, thresholds=dict(doc.get("thresholds", {})),
                  pattern_descriptions={str(k): str(v) for k, v in doc.get("pattern_descriptions", {}).items()})
