"""Text from outside (file names, county codes, reasons that quote them) as it may reach a terminal.

A file name may hold any character but ``/`` and NUL: an escape sequence (``ESC[2J`` clears the
screen, ``ESC]0;…`` sets the window title), a line break (a fake row in a table), a right-to-left
override (``\u202e`` shows ``exe.csv`` as ``vsc.exe``). :func:`printable` renders every such character
as an escape, so whatever the CLI prints is exactly one line per row and shows what the name holds.
"""

from __future__ import annotations

import unicodedata

# C0 and C1 controls and DEL (Cc), format characters such as bidi overrides and zero-width ones (Cf),
# line and paragraph separators (Zl, Zp), lone surrogates of undecodable names (Cs), unassigned (Cn)
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """``text`` with every control, format and separator character shown as ``\\n``, ``\\xNN``, ``\\uNNNN``."""
    value = "" if text is None else str(text)
    if value.isprintable():   # the common case, C-speed: nothing to escape (a space is printable)
        return value
    return "".join(_escaped(ch) if unicodedata.category(ch) in _HIDDEN else ch for ch in value)


def _escaped(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
