"""What validation hands back to ingestion (the interface in the project brief)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RowFinding:
    source_row: int | None   # the row number the county sees; None: the file as a whole (plausibility)
    column: str | None
    rule: str
    reason: str              # in Chinese, for the county clerk
    severity: str            # 'reject_row' | 'warn'
    accepted: bool = False   # a warn accepted by the county's 上报说明 (forced submission)


@dataclass
class ExpectationResult:
    """One per expectation evaluated, for ops.validation_results."""
    expectation: str         # the rule id (include/config/validation.yaml)
    column: str | None
    severity: str
    success: bool
    unexpected_count: int
    observed_value: str | None


@dataclass
class ValidationOutcome:
    suite: str
    file_rejected: bool
    reason_code: str | None  # stable machine code when the whole file is rejected
    reason: str | None       # Chinese reason when the whole file is rejected
    findings: list[RowFinding] = field(default_factory=list)
    results: list[ExpectationResult] = field(default_factory=list)
    rows_checked: int = 0

    @property
    def rejected_rows(self) -> set[int]:
        """Source rows with at least one reject_row finding."""
        return {f.source_row for f in self.findings if f.severity == "reject_row" and f.source_row is not None}

    @property
    def warned_rows(self) -> set[int]:
        return {f.source_row for f in self.findings if f.severity == "warn" and f.source_row is not None}

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)
