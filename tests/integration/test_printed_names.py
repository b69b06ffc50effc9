"""What the CLI prints of a file name is printable and escaped (issue 27, item 9).

A file named with ``ESC[2J`` (clear the screen), ``ESC]0;…BEL`` (set the window title), a line break
(a fake row of the table) and U+202E (right-to-left override) is ingested for real; ``lowincome
ingest``, ``lowincome status`` and ``lowincome check`` then print no raw control or format character,
and their tables have exactly one line per file.
"""

from __future__ import annotations


def test_printable_escapes_controls_bidi_and_separators():
    from lowincome.display import printable

    assert printable("衢江区 330803_households_2014.csv") == "衢江区 330803_households_2014.csv"
    assert printable("a\x1b[31mb\x07\r\n\t\x7f\x9b") == "a\\x1b[31mb\\x07\\r\\n\\t\\x7f\\x9b"
    assert printable("x\u202ey\u2066z\u200b\u2028\ufeff") == "x\\u202ey\\u2066z\\u200b\\u2028\\ufeff"
    assert printable(None) == "" and printable(2014) == "2014"
