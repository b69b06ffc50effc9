"""The record of one received file, as the stages hand it on: :class:`FileRecord`.

:func:`lowincome.ingest.pipeline.parse_file` makes it (read, recognise, normalise), validation reads it,
the load records it in the ledger. The nightly DAG passes it between tasks (parse, then validate, then
load, mapped per county), so it crosses process boundaries as XCom: there it is a plain JSON dict
(:meth:`FileRecord.to_xcom` / :meth:`FileRecord.from_xcom`), not the dataclass itself. Airflow's own
serialisation of a dataclass would need the class in ``[core] allowed_deserialization_classes`` on every
worker and turns a dataclass inside a list back into a dict; a dict of JSON types reads the same under
any executor. ``from_xcom`` takes exactly the fields the record has: a missing or unknown key (an XCom
written by other code, a renamed field) is an error, never a silent default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

Kind = Literal["parsed", "duplicate", "recover"]
KINDS: tuple[str, ...] = get_args(Kind)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file from landing to the ledger. Paths and dates are text, so the record is JSON as it is."""

    # --- the file as received
    path: str                         # the data file in landing (cleared after the load)
    file_name: str                    # its name as text for the ledger (display_name: never a path)
    sha256: str                       # checksum of its bytes: the archive's name, the duplicate check
    size_bytes: int
    archive_path: str                 # the copy of the original bytes under $DATA/archive
    received_on: str                  # ISO date the file carries (its mtime, Asia/Shanghai)
    sidecars: tuple[str, ...] = ()    # 上报说明 text files that came with it (cleared with it)
    explanation: str | None = None    # the county's explanation (sidecar or 上报说明 sheet)
    order: int = 0                    # arrival order within its batch: later supersedes earlier
    # --- what the ledger already knows of these bytes
    kind: Kind = "parsed"             # parsed | duplicate (of an accepted file) | recover (committed, not cleared)
    duplicate_of: int | None = None   # the accepted submission it duplicates (kind duplicate)
    recover_id: int | None = None     # its own committed submission to finish (kind recover)
    # --- recognised: what the file is (its name's hint until the content says)
    template: str | None = None
    county_code: str | None = None
    year: int | None = None
    source_format: str | None = None  # csv | xlsx | xls | ... (what the content is, not the name)
    source_sheet: str | None = None   # the workbook sheet read
    source_encoding: str | None = None
    header_row: int | None = None     # the county's row number of the header
    columns: tuple[str, ...] = ()     # the load table's columns (template columns found, then pseudonyms)
    # --- normalised: where its rows wait
    load_table: str | None = None     # ops."<load_table>", dropped after the load; None when nothing was read
    rows_read: int = 0                # data rows (not blank, unit, total or footer rows)
    warnings: tuple[dict[str, Any], ...] = ()   # file-level warnings: {row, column, rule, reason}
    rejection: dict[str, str] | None = None     # the whole file refused: {code, reason} (file_reasons.yaml)
    seconds: float | None = None      # time the parse took
    # --- validated (DAG): the outcome waits in ops.load_tables beside the load table
    validated: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"FileRecord.kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def rejected(self) -> bool:
        return self.rejection is not None

    def replace(self, **changes: Any) -> FileRecord:
        """A copy with ``changes`` (the record is frozen: each stage hands on a new one)."""
        return dataclasses.replace(self, **changes)

    def to_xcom(self) -> dict[str, Any]:
        """A plain JSON dict of every field (tuples as lists), for an XCom between tasks."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_xcom(cls, data: dict[str, Any]) -> FileRecord:
        """The record :meth:`to_xcom` wrote; a missing or unknown key raises ``ValueError``."""
        if not isinstance(data, dict):
            raise TypeError(f"a FileRecord comes from a dict, not {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        missing, unknown = names - data.keys(), data.keys() - names
        if missing or unknown:
            raise ValueError("not a FileRecord: "
                             + "; ".join(part for part in (
                                 f"missing {', '.join(sorted(missing))}" if missing else "",
                                 f"unknown {', '.join(sorted(unknown))}" if unknown else "") if part))
        values = dict(data)
        for name in ("sidecars", "columns", "warnings"):
            if not isinstance(values[name], (list, tuple)):
                raise ValueError(f"FileRecord.{name} must be a list, not {type(values[name]).__name__}")
            values[name] = tuple(values[name])
        return cls(**values)
