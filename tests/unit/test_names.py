"""Names written under $DATA are bounded in bytes, not characters, and stay apart (issue 27, item 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lowincome.ingest import files, recognise

NAME_MAX = 255                              # bytes a name may hold on ext4 and xfs
TMP_AFFIX = len("." + ".4194304.tmp")       # storage's temporary name: ".<name>.<pid>.tmp"


@pytest.mark.parametrize("name", ["衢" * 83 + ".csv", "𠀀" * 200 + ".xlsx", "x" * 500, "衢" * 300,
                                  "a" * 118 + "衢.csv", "衢" * 50 + "." + "衢" * 50])
def test_a_long_name_is_cut_in_bytes_and_keeps_its_extension(name):
    safe = files.safe_name(name)
    assert len(safe.encode()) <= files.MAX_NAME
    assert safe[:3] == name[:3]
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension and len(extension.encode()) <= 8:
        assert safe.endswith("." + extension)


@given(st.text(min_size=1, max_size=400))
def test_every_safe_name_leaves_room_for_our_affixes(name):
    safe = files.safe_name(name)
    assert len(safe.encode()) <= files.MAX_NAME
    # quarantine: "<sha12>_<name>.reason.txt", feedback: "<date>_<id>_<stem>_反馈.xlsx", each written via a tmp name
    quarantine = f"{'0' * 12}_{safe}.reason.txt"
    feedback = f"20261207_{2**63 - 1}_{safe}_反馈.xlsx"
    for written in (quarantine, feedback):
        assert len(written.encode()) + TMP_AFFIX <= NAME_MAX


def test_two_long_names_that_share_their_beginning_stay_apart():
    first, second = "衢" * 83 + "甲.csv", "衢" * 83 + "乙.csv"
    assert files.safe_name(first) != files.safe_name(second)
    assert files.safe_name(first) == files.safe_name(first)     # the same name, the same safe name
    assert files.safe_name("short.csv") == "short.csv"          # a name that fits is left as it is


def test_feedback_goes_to_the_county_the_name_names():
    assert recognise.sender_county("330803_villages_2014.csv", "330802") == "330803"
    assert recognise.sender_county("衢江区2014年行政村表.csv", "330802") == "330803"
    assert recognise.sender_county("村级台账.csv", "330802") == "330802"          # no county in the name
    assert recognise.sender_county("123456_villages_2014.csv", "330802") == "330802"   # no county of ours
    assert recognise.sender_county("全省指标_2014.csv", "330000") == "330000"
