"""How each county fills in its files: format, encoding, header wording, yes/no words, units.

A county keeps its habits from year to year (the same clerk, the same spreadsheet), so the style
depends on the county and the seed, never on the year or on which other counties are generated.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from lowincome.generator.counties import County, load_counties

FORMATS = ("csv", "xlsx", "mixed")
YES_NO_ZH = (("是", "否"), ("是", "否"), ("是", "否"), ("1", "0"))
YES_NO_EN = (("Y", "N"), ("1", "0"), ("true", "false"))


@dataclass(frozen=True)
class SubmissionStyle:
    fmt: str  # csv | xlsx
    encoding: str  # utf-8 | utf-8-sig | gbk (CSV only)
    headers: str  # zh | zh_unit | zh_alias | en
    unit_brackets: str  # "()" or "（）" for zh_unit headers
    yes: str
    no: str
    title_row: bool  # XLSX only: "衢江区2014年低收入农户登记表" above the header
    unit_row: bool  # XLSX only: "单位:元" between the title and the header
    wan_yuan: frozenset[str]  # money columns this county sends in 万元
    date_style: str  # iso (2014-03-15) | slash (2014/3/15)
    english_programs: bool  # program column as English codes (training, microcredit, …)

    def with_changes(self, **changes) -> SubmissionStyle:
        return replace(self, **changes)


def _rank(seed: int, code: str) -> int:
    digest = hashlib.sha256(f"{seed}:{code}:style".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@cache
def county_styles(seed: int, fmt: str = "mixed") -> dict[str, SubmissionStyle]:
    """Every county's style; with ``mixed``, every third county (in a seeded order) sends XLSX."""
    order = sorted(load_counties(), key=lambda c: _rank(seed, c.code))
    styles = {}
    for position, county in enumerate(order):
        styles[county.code] = _style(county, seed, position, fmt)
    return styles


def _style(county: County, seed: int, position: int, fmt: str) -> SubmissionStyle:
    rng = np.random.default_rng([seed, int(county.code), 7001])
    if fmt == "mixed":
        file_fmt = "xlsx" if position % 3 == 0 else "csv"
    else:
        file_fmt = fmt
    # Among CSV senders the encodings rotate, so each one occurs whatever the seed.
    encoding = ("utf-8", "utf-8-sig", "gbk")[(position // 3 + position) % 3]
    draw = rng.random()
    if file_fmt == "csv" and draw < 0.18:
        headers = "en"
    elif draw < 0.36:
        headers = "zh_unit"
    elif draw < 0.46:
        headers = "zh_alias"
    else:
        headers = "zh"
    if headers == "en":
        yes, no = YES_NO_EN[int(rng.integers(len(YES_NO_EN)))]
    else:
        yes, no = YES_NO_ZH[int(rng.integers(len(YES_NO_ZH)))]
    title_row = bool(rng.random() < 0.5)
    unit_row = title_row and bool(rng.random() < 0.6)
    wan_yuan = set()
    if headers != "en":
        if rng.random() < 0.3:
            wan_yuan.add("collective_operating_income")
        if rng.random() < 0.3:
            wan_yuan.add("processing_fees")
    return SubmissionStyle(
        fmt=file_fmt,
        encoding=encoding,
        headers=headers,
        unit_brackets="（）" if rng.random() < 0.4 else "()",
        yes=yes,
        no=no,
        title_row=title_row,
        unit_row=unit_row,
        wan_yuan=frozenset(wan_yuan),
        date_style="slash" if rng.random() < 0.2 else "iso",
        english_programs=headers == "en" and bool(rng.random() < 0.5),
    )


PROVINCE_STYLE = SubmissionStyle(
    fmt="csv", encoding="utf-8-sig", headers="zh", unit_brackets="()", yes="是", no="否", title_row=False,
    unit_row=False, wan_yuan=frozenset(), date_style="iso", english_programs=False,
)
