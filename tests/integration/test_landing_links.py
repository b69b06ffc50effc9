"""Landing reads regular files with one name only (issue 27, item 8).

A hard link in landing to ``/etc/passwd`` was a regular file like any other: it was archived and
quarantined. Now such an entry (a hard link, a symbolic link, a FIFO) is refused unread: moved out of
landing into ``<quarantine>/refused/`` beside a note that says why, shown in ``lowincome ingest``'s table,
never in the ledger, the archive or the quarantine proper; the good files beside it load.
"""

from __future__ import annotations

import os

import pytest


def test_a_landing_file_is_opened_without_following_a_link(tmp_path):
    from lowincome.ingest.landed import NotRegularFile, open_landed
    from lowincome.ingest.storage import sha256_of

    plain = tmp_path / "plain.csv"
    plain.write_text("县代码\n")
    with open_landed(plain) as handle:
        assert handle.read() == "县代码\n".encode()
    (tmp_path / "link.csv").symlink_to(plain)
    os.link(plain, tmp_path / "second_name.csv")
    for entry in ("link.csv", "second_name.csv", "plain.csv"):   # plain.csv now has two names as well
        with pytest.raises(NotRegularFile):
            sha256_of(tmp_path / entry)
