"""File-level reasons (``include/config/file_reasons.yaml``): stable codes, Chinese words, one table;
and which exceptions raised while reading a file are the file's rejection and which are ours."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import psycopg
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


class NotTheFilesFault(RuntimeError):
    """Reading a file failed for a reason that is not the file's (the warehouse, memory, a signal): it
    propagates instead of rejecting the file (:func:`as_rejection`)."""


def as_rejection(err: BaseException) -> FileRejected | None:
    """An exception raised while reading a file, as that file's rejection; None when it is not the file's
    fault (the warehouse, memory, an interrupt) and must propagate.

    A reader that trips over a strange file (a ValueError deep in a parser, a panic of the Rust workbook
    reader, which Python sees as a BaseException) is the file's outcome, not a crash of the night.
    """
    if isinstance(err, FileRejected):
        return err
    if isinstance(err, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError | NotTheFilesFault):
        return None
    if isinstance(err, psycopg.DataError):   # e.g. a NUL character, which PostgreSQL text cannot hold
        return FileRejected("unreadable", detail="文件含有无法保存的字符（如空字符）")
    if isinstance(err, psycopg.Error):
        return None
    return FileRejected("unreadable", detail="文件内容无法解析")


def where_raised(err: BaseException) -> str:
    """Where an exception was raised (file:line of the innermost frame), without its message."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"


def describe(err: BaseException) -> str:
    """An unexpected error for the operator, without cell values: the message only where it cannot quote
    file content (our own errors, the operating system, the connection), else the type alone."""
    safe = isinstance(err, RuntimeError | OSError | psycopg.OperationalError | psycopg.InterfaceError)
    text = f"{type(err).__name__}: {err}" if safe else f"{type(err).__name__} at {where_raised(err)}"
    return text.splitlines()[0][:300] if text else type(err).__name__
