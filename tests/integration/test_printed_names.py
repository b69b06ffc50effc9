"""What the CLI prints of a file name is printable and escaped (issue 27, item 9).

A file named with ``ESC[2J`` (clear the screen), ``ESC]0;…BEL`` (set the window title), a line break
(a fake row of the table) and U+202E (right-to-left override) is ingested for real; ``lowincome
ingest``, ``lowincome status`` and ``lowincome check`` then print no raw control or format character,
and their tables have exactly one line per file.
"""

from __future__ import annotations

import unicodedata

from fixtures.county_files import households, table, villages, write_csv

HOSTILE = "\x1b[2J\x1b]0;pwned\x07330802_households_2014\n330803  loaded  fake\u202evsc.csv"
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07330802_households_2014\\n330803  loaded  fake\\u202evsc.csv"


def raw_controls(text: str) -> list[str]:
    """Characters a terminal would act on or hide, besides the line breaks between lines."""
    return [repr(ch) for ch in text if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]


def test_hostile_file_names_are_printed_escaped(empty_warehouse, capsys):
    from lowincome.cli import main

    cfg = empty_warehouse
    write_csv(cfg.landing_dir / HOSTILE, table(households(3, county="330802"), "households"))
    write_csv(cfg.landing_dir / "330803_villages_2014.csv", table(villages(3, county="330803"), "villages"))
    (cfg.landing_dir / "\x1b]0;pwned\x07330804_villages_2014.csv").write_bytes(b"")   # rejected: quarantined

    assert main(["ingest", str(cfg.landing_dir), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert raw_controls(out) == []
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 1 + 3 + 2, out            # header, one line per file, blank line, totals
    [hostile_line] = [line for line in lines if line.startswith("\\x1b[2J")]
    assert "loaded" in hostile_line
    # the quarantine's note says the name escaped too (an operator reads it with cat)
    [note] = [p for p in cfg.quarantine_dir.iterdir() if p.name.endswith(".reason.txt")]
    assert "原文件名: \\x1b]0;pwned\\x07330804_villages_2014.csv" in note.read_text(encoding="utf-8")
    assert raw_controls(note.read_text(encoding="utf-8")) == []

    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert raw_controls(out) == []
    assert SHOWN in out
    listed = [line for line in out.split("\n") if line.startswith("  2014  ")]
    assert len(listed) == 3, out                    # one row per file: the name's line break made no fourth

    assert main(["check"]) == 0
    assert raw_controls(capsys.readouterr().out) == []


def test_printable_escapes_controls_bidi_and_separators():
    from lowincome.display import printable

    assert printable("衢江区 330803_households_2014.csv") == "衢江区 330803_households_2014.csv"
    assert printable("a\x1b[31mb\x07\r\n\t\x7f\x9b") == "a\\x1b[31mb\\x07\\r\\n\\t\\x7f\\x9b"
    assert printable("x\u202ey\u2066z\u200b\u2028\ufeff") == "x\\u202ey\\u2066z\\u200b\\u2028\\ufeff"
    assert printable(None) == "" and printable(2014) == "2014"
