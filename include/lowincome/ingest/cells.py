"""Normalising one cell into the text the load table holds.

What is done: trim; full-width -> half-width; Excel numbers without a spurious ``.0``; amounts from a
万元 header ×10000 as exact decimal text; thousands separators dropped from numbers; dates as ISO
``YYYY-MM-DD`` when recognisable; a lower-case ``x`` ending an ID number upper-cased; blank -> NULL.
What is NOT done: judging values. ``3.30802E+17`` stays that text so that validation rejects it, and an
18-digit ID stored by Excel as a number is not rendered as an integer (its last digits are gone:
a double holds 15-16 significant digits), so it is rejected too instead of loading a wrong number.

Each column gets one small function, chosen once per file, because this runs for every cell of
millions of rows: the common case (ASCII text) costs a ``strip``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from lowincome.templates import Column

# Full-width ASCII (U+FF01-U+FF5E) and the ideographic space -> their half-width forms.
FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# translate() looks every character up in a dict; a regex scan finds the rare cell that needs it first
HAS_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(:\d{2})?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel serial dates a plan-period file can hold (1954-2119): outside this a number stays a number.
_SERIAL_DATES = (20_000, 80_000)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Doubles represent every integer below 2**53 exactly; above, the digits were already lost.
_EXACT_INT = 2**53
_isfinite = math.isfinite

Normaliser = Callable[[Any], str | None]


def text_of(value: Any) -> str | None:
    """A cell as trimmed half-width text (None when blank), whatever its spreadsheet type."""
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        if not value.isascii() and HAS_FULL_WIDTH.search(value):
            value = value.translate(FULL_WIDTH)
        value = value.strip()
        return value or None
    if kind is float:
        return number_text(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is dt.datetime:
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if kind is dt.date:
        return value.isoformat()
    return str(value).strip() or None


def number_text(value: float) -> str:
    """An Excel number as the county sees it: integers without ``.0``, 15 significant digits."""
    if not _isfinite(value):   # nan, inf (the tuple of float("inf") it replaces was built per call)
        return str(value)
    if value.is_integer() and -_EXACT_INT < value < _EXACT_INT:
        return str(int(value))
    return f"{value:.15G}"


def _scaled(text: str, scale: Decimal) -> str:
    try:
        scaled = Decimal(text) * scale
    except InvalidOperation:
        return text
    out = format(scaled, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return out


def plain_number(text: str) -> str:
    if "," in text and _THOUSANDS.match(text):
        return text.replace(",", "")
    return text


def iso_date(text: str) -> str:
    """``2014/3/15``, ``2014.3.15``, ``2014年3月15日``, ``20140315`` -> ``2014-03-15``; else unchanged."""
    found = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not found:
        return text
    try:
        return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
    except ValueError:
        return text


def normaliser(col: Column, scale: Decimal | None = None) -> Normaliser:
    """The function that turns a raw cell of this column into load-table text."""
    if col.type in ("money", "number", "int", "year"):
        if scale is not None:
            def money(value: Any) -> str | None:
                text = text_of(value)
                if text is None:
                    return None
                text = plain_number(text)
                return _scaled(text, scale) if _DECIMAL.match(text) else text
            return money

        def number(value: Any) -> str | None:
            text = text_of(value)
            if text is None or "," not in text:
                return text
            return plain_number(text)
        return number
    if col.type == "date":
        def date(value: Any) -> str | None:
            if type(value) is float and _SERIAL_DATES[0] <= value <= _SERIAL_DATES[1]:
                return (_EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
            text = text_of(value)
            return None if text is None else iso_date(text)
        return date
    if col.check == "gb11643":
        def id_number(value: Any) -> str | None:
            text = text_of(value)
            if text is not None and text[-1:] == "x":
                return text[:-1] + "X"
            return text
        return id_number
    return text_of
