"""When each generated file arrived: a plausible receipt date, carried by the file as its modification time.

Counties send their files around the deadlines of the reporting calendar
(``dbt_project/seeds/reporting_calendar.csv``, e.g. households by 31 January of the next year, incomes
and county indicators by 31 March): about 88% in the four weeks before the deadline, 10% up to three
weeks late, 2% one to ten weeks late, in office hours (Asia/Shanghai). The generator sets each file's
modification time to that moment, as an upload that keeps a file's time does (``cp -p``, ``rsync -t``,
``shutil.copytree``), and ingestion records it as the file's receipt date (``ops.submissions.received_on``;
the night that loaded it is ``received_at``). About one county-year in twenty resubmits its county
indicators with a correction (``<county>_county_indicators_<year>_更正``) one to six weeks after the first
file. Nothing is dated after the moment of generation: a file whose simulated arrival lies in the
future (a year not yet due) arrives "now".

Deterministic: the same seed, county, template and year give the same moment.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from lowincome.config import settings

LOCAL_TIME = ZoneInfo("Asia/Shanghai")
RESUBMITTED_SHARE = 0.05
OFFICE_OPENS = dt.time(8, 30)
OFFICE_MINUTES = 9 * 60


@cache
def deadlines() -> dict[tuple[str, int], dt.date]:
    """(template, year) -> deadline, from the reporting calendar the timeliness mart uses."""
    path = settings().dbt_project_dir / "seeds" / "reporting_calendar.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {(r["template"], int(r["year"])): dt.date.fromisoformat(r["deadline"]) for r in csv.DictReader(f)}


def deadline(template: str, year: int) -> dt.date:
    """The calendar's deadline; a year beyond the calendar keeps the template's day of the year."""
    known = deadlines()
    if (template, year) in known:
        return known[template, year]
    same = sorted((y, d) for (t, y), d in known.items() if t == template)
    if same:
        last_year, last = same[-1]
        return last.replace(year=last.year + year - last_year)
    return dt.date(year + 1, 3, 31)


def _draw(seed: int, *key: object) -> random.Random:
    return random.Random("|".join(map(str, (seed, *key))))


def _office_hours(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, OFFICE_OPENS, LOCAL_TIME) + dt.timedelta(minutes=rng.randrange(OFFICE_MINUTES))


def receipt_time(seed: int, county_code: str, template: str, year: int, name: str = "",
                 now: dt.datetime | None = None) -> dt.datetime:
    """When this county's file of ``template`` for ``year`` arrived (``name`` tells extra files apart)."""
    rng = _draw(seed, county_code, template, year, name)
    due = deadline(template, year)
    draw = rng.random()
    if draw < 0.88:
        day = due - dt.timedelta(days=rng.randrange(28))
    elif draw < 0.98:
        day = due + dt.timedelta(days=1 + rng.randrange(21))
    else:
        day = due + dt.timedelta(days=22 + rng.randrange(49))
    return min(_office_hours(day, rng), now or dt.datetime.now(LOCAL_TIME))


def resubmitted(seed: int, county_code: str, year: int) -> bool:
    """Whether this county sends its county indicators of ``year`` again, corrected."""
    return _draw(seed, county_code, "county_indicators", year, "resubmitted").random() < RESUBMITTED_SHARE


def resubmission_time(seed: int, county_code: str, year: int, first: dt.datetime,
                      now: dt.datetime | None = None) -> dt.datetime:
    rng = _draw(seed, county_code, "county_indicators", year, "again")
    day = first.astimezone(LOCAL_TIME).date() + dt.timedelta(days=7 + rng.randrange(36))
    return min(_office_hours(day, rng), now or dt.datetime.now(LOCAL_TIME))


def stamp(path: Path, moment: dt.datetime) -> None:
    """Give the file its arrival time as its modification (and access) time."""
    seconds = moment.timestamp()
    os.utime(path, (seconds, seconds))
