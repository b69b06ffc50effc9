"""File-level reasons (``include/config/file_reasons.yaml``): stable codes, Chinese words, one table."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

REASONS_FILE = Path(__file__).resolve().parents[2] / "config" / "file_reasons.yaml"


@cache
def reason_table(path: Path = REASONS_FILE) -> dict[str, str]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    table = {code: str(spec["reason"]) for code, spec in doc["reasons"].items()}
    table.update({code: str(spec["reason"]) for code, spec in doc.get("warnings", {}).items()})
    return table


def reason(code: str, **params: Any) -> str:
    """The Chinese reason of a code; a code missing from the table is our bug, so it raises."""
    return reason_table()[code].format(**params)


class FileRejected(Exception):
    """The file as a whole cannot be accepted: a handled outcome, never a crash."""

    def __init__(self, code: str, **params: Any):
        self.code = code
        self.params = params
        self.reason = reason(code, **params)
        super().__init__(f"{code}: {self.reason}")
