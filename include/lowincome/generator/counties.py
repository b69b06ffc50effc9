"""The counties in scope, read from ``include/config/counties.csv``.

The file lists the 85 county-level divisions of Zhejiang with ≥ 20,000 rural residents in 2013–2017,
under the GB/T 2260 code in force for most of the plan period (2013–2017, as at 31 December of each
year, the date the household register describes). Left out are the five districts without villages in
those years' boundaries: 杭州上城/下城/拱墅 and 宁波海曙/江东 (before the 2016 re-division).

Codes that changed during or just after the period (kept in :data:`CODE_CHANGES`):

- 富阳: 330183 富阳市 until Dec 2014, then 330111 富阳区 -> the file uses 330111 (valid 2015–2017).
- 洞头: 330322 洞头县 until Jul 2015, then 330305 洞头区 -> the file uses 330305 (valid 2015–2017).
- 柯桥: 330603 柯桥区 from Oct 2013 (before: 330621 绍兴县);
  上虞: 330604 上虞区 from Oct 2013 (before: 330682 上虞市).
- 奉化: 330283 奉化市 until Sep 2016 (then 330213 奉化区); 临安: 330185 临安市 until Sep 2017
  (330112 临安区); 玉环: 331021 玉环县 until Apr 2017 (331083 玉环市) -> the county codes are kept.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lowincome.errors import UserError

COUNTIES_FILE = Path(__file__).resolve().parents[2] / "config" / "counties.csv"
PROVINCE_CODE = "330000"
PROVINCE_NAME = "浙江省"

# code in counties.csv -> (other code the same county used in 2012–2017, when it was valid)
CODE_CHANGES: dict[str, tuple[str, str]] = {
    "330111": ("330183", "富阳市 until 2014-12"),
    "330305": ("330322", "洞头县 until 2015-07"),
    "330603": ("330621", "绍兴县 until 2013-10"),
    "330604": ("330682", "上虞市 until 2013-10"),
    "330283": ("330213", "奉化区 from 2016-09"),
    "330185": ("330112", "临安区 from 2017-09"),
    "331021": ("331083", "玉环市 from 2017-04"),
}

_SUFFIXES = ("畲族自治县", "自治县", "区", "县", "市")


@dataclass(frozen=True)
class County:
    code: str
    name: str
    city_code: str
    city_name: str
    is_26: bool
    is_29: bool
    is_12: bool
    area_type: str
    rural_population_10k: float

    @property
    def short_name(self) -> str:
        """衢江区 -> 衢江, 景宁畲族自治县 -> 景宁: what people say and type."""
        for suffix in _SUFFIXES:
            if self.name.endswith(suffix) and len(self.name) > len(suffix) + 1:
                return self.name[: -len(suffix)]
        return self.name


def _flag(text: str) -> bool:
    return text.strip().lower() == "true"


@cache
def load_counties(path: Path = COUNTIES_FILE) -> tuple[County, ...]:
    """Every county in scope, ordered by code."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counties = [
        County(
            code=row["county_code"],
            name=row["county_name"],
            city_code=row["city_code"],
            city_name=row["city_name"],
            is_26=_flag(row["is_26"]),
            is_29=_flag(row["is_29"]),
            is_12=_flag(row["is_12"]),
            area_type=row["area_type"],
            rural_population_10k=float(row["rural_population_10k"]),
        )
        for row in rows
    ]
    return tuple(sorted(counties, key=lambda c: c.code))


def select_counties(keys: Iterable[str] | None) -> list[County]:
    """Counties by code (330803), name (衢江区) or short name (衢江); all of them when ``keys`` is None."""
    counties = load_counties()
    if keys is None:
        return list(counties)
    lookup: dict[str, County] = {}
    for county in counties:
        lookup[county.code] = county
        lookup[county.name] = county
        lookup[county.short_name] = county
    for new_code, (old_code, _) in CODE_CHANGES.items():
        lookup.setdefault(old_code, lookup[new_code])
    chosen: dict[str, County] = {}
    unknown = []
    for key in keys:
        for part in str(key).replace("，", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if part in lookup:
                chosen[lookup[part].code] = lookup[part]
            else:
                unknown.append(part)
    if unknown:
        raise UserError(f"unknown county {', '.join(unknown)}: use a code or name from {COUNTIES_FILE.name}")
    if not chosen:
        raise UserError("no county selected: pass county codes or names, or leave --counties out for all")
    return sorted(chosen.values(), key=lambda c: c.code)
