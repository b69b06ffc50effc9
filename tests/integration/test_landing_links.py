"""Landing reads regular files with one name only (issue 27, item 8).

A hard link in landing to ``/etc/passwd`` was a regular file like any other: it was archived and
quarantined. Now such an entry (a hard link, a symbolic link, a FIFO) is refused unread: moved out of
landing (a link or FIFO into ``<quarantine>/refused/``) with a note there that says why, shown in ``lowincome ingest``'s table,
never in the ledger, the archive or the quarantine proper; the good files beside it load.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures.county_files import households, table, write_csv
from fixtures.ingest_support import ingest, rows


def hard_link_to_a_host_file(target: Path, tmp_path: Path) -> Path:
    """``target`` as a second name of a file outside the data folder, as /etc/passwd was (a copy of it
    here: a link to the real one would outlive the test in pytest's kept folders)."""
    host = tmp_path / "etc" / "passwd"
    host.parent.mkdir()
    host.write_bytes(Path("/etc/passwd").read_bytes() if Path("/etc/passwd").is_file() else b"root:x:0:0::/root:\n")
    os.link(host, target)
    return host


def test_a_hard_link_and_other_non_files_are_refused_unread(empty_warehouse, tmp_path):
    cfg = empty_warehouse
    land = cfg.landing_dir
    write_csv(land / "330802_households_2014.csv", table(households(3, county="330802"), "households"))
    host_file = hard_link_to_a_host_file(land / "330803_villages_2014.csv", tmp_path)
    before = host_file.read_bytes()
    (land / "330804_households_2014\x1b[2J.csv").symlink_to(host_file)   # and a hostile name
    os.mkfifo(land / "330805_households_2014.csv")

    outcomes = ingest(cfg)

    assert {n: o.status for n, o in outcomes.items()} == {
        "330802_households_2014.csv": "loaded", "330803_villages_2014.csv": "refused",
        "330804_households_2014\x1b[2J.csv": "refused", "330805_households_2014.csv": "refused"}
    assert "a hard link (the file has 2 names)" in outcomes["330803_villages_2014.csv"].reason
    assert "a symbolic link" in outcomes["330804_households_2014\x1b[2J.csv"].reason
    assert "not a regular file" in outcomes["330805_households_2014.csv"].reason
    # nothing of the host file was read into the platform: one ledger row, one archived original
    assert [r["file_name"] for r in rows(cfg, "select file_name from ops.submissions")] == [
        "330802_households_2014.csv"]
    archived = [p for p in cfg.archive_dir.rglob("*") if p.is_file()]
    assert len(archived) == 1 and archived[0].read_bytes() != before
    quarantined = [p for p in cfg.quarantine_dir.iterdir() if p.is_file()]
    assert quarantined == []
    # landing is clear. The symbolic link and the FIFO are set aside as they were (the link, not what it
    # points at); the hard link's name is removed (no second name of the host file lives on under $DATA)
    assert list(land.iterdir()) == []
    refused = sorted((cfg.quarantine_dir / "refused").iterdir())
    notes = [p for p in refused if p.name.endswith(".reason.txt")]
    assert len(notes) == 3 and len(refused) == 5
    assert os.readlink(next(p for p in refused if p.name.endswith("330804_households_2014_2J.csv"))) == str(host_file)
    assert os.stat(host_file).st_nlink == 1 and host_file.read_bytes() == before
    hard = next(n for n in notes if "330803" in n.name).read_text()
    assert "hard link" in hard and f"removed from landing; the file it names (inode {os.stat(host_file).st_ino})" in hard
    assert "330804_households_2014\\x1b[2J.csv" in next(n for n in notes if "330804" in n.name).read_text()
    assert outcomes["330803_villages_2014.csv"].reason.endswith(f"taken out of landing, see {notes[0]}")


def test_a_landing_file_is_opened_without_following_a_link(tmp_path):
    from lowincome.ingest.files import NotRegularFile, open_landed, sha256_of

    plain = tmp_path / "plain.csv"
    plain.write_text("县代码\n")
    with open_landed(plain) as handle:
        assert handle.read() == "县代码\n".encode()
    (tmp_path / "link.csv").symlink_to(plain)
    os.link(plain, tmp_path / "second_name.csv")
    for entry in ("link.csv", "second_name.csv", "plain.csv"):   # plain.csv now has two names as well
        with pytest.raises(NotRegularFile):
            sha256_of(tmp_path / entry)
