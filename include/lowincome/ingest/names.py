"""File names: what a name hints at (county, template, year), and names safe to write under ``$DATA``.

The content decides what a file is; the name is a hint, used to group files per county before they
are read, and checked against the content afterwards (a name that says another year or county is a
contradiction the county must resolve). A name is never used as a path: quarantine and feedback files
get a sanitised name, so ``../../etc/passwd.csv`` or a name with control characters or bytes that are
not UTF-8 cannot write outside the data folder. A filesystem bounds a name in bytes (255 on ext4 and
xfs), not characters: a sanitised name is cut to :data:`MAX_NAME` bytes of UTF-8, which leaves room for
the prefixes and suffixes the project adds (checksum, submission id, ``.reason.txt``, a temporary
``.<name>.<pid>.tmp``), and a cut name ends in a digest of the whole so that two long names stay apart.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lowincome.templates import templates

COUNTIES_FILE = Path(__file__).resolve().parents[2] / "config" / "counties.csv"
PROVINCE_CODE = "330000"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(20[1-3]\d)(?!\d)")
_UNSAFE = re.compile(r"[^\w.\-()（）\u4e00-\u9fff]+")
MAX_NAME = 120          # bytes (UTF-8) of a sanitised name: 255, the filesystem's limit, less our affixes


@cache
def counties() -> dict[str, str]:
    """county_code -> county_name of every county in scope (``include/config/counties.csv``)."""
    with COUNTIES_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["county_code"].strip(): row["county_name"].strip() for row in csv.DictReader(handle)}


def in_scope(county_code: str | None, template: str) -> bool:
    """A county of counties.csv; the province code only for the template that carries it."""
    if county_code is None:
        return False
    fixed = templates()[template].fixed_county_code
    if fixed is not None:
        return county_code == fixed
    return county_code in counties()


def display_name(path: Path) -> str:
    """The file name as text for the ledger: bytes that are not UTF-8 are tried as GB18030 (Windows
    zips), else shown as ``\\xNN`` escapes."""
    raw = os.fsencode(path.name)
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "backslashreplace")


def safe_name(name: str, limit: int = MAX_NAME) -> str:
    """A file name without directories, control characters or leading dots: safe as one path part, at
    most ``limit`` bytes in UTF-8 (a longer one keeps its beginning, a digest of the whole name and its
    extension: ``衢衢…衢_1a2b3c4d.csv``)."""
    text = unicodedata.normalize("NFKC", name)
    text = text.replace("/", "_").replace("\\", "_")
    text = _UNSAFE.sub("_", text).strip("._ ") or "file"
    if len(text.encode("utf-8")) <= limit:
        return text
    stem, dot, suffix = text.rpartition(".")
    if not (dot and stem and len(suffix.encode("utf-8")) <= 8):
        stem, suffix = text, ""
    digest = hashlib.blake2s(name.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    tail = f"_{digest}" + (f".{suffix}" if suffix else "")
    head = stem.encode("utf-8")[: limit - len(tail)].decode("utf-8", "ignore")
    return head + tail


def safe_county_dir(county_code: str | None) -> str:
    """The feedback folder of a county: its 6-digit code, or ``unknown`` for anything else."""
    return county_code if county_code and re.fullmatch(r"\d{6}", county_code) else "unknown"


def inside(base: Path, *parts: str) -> Path:
    """``base/parts...``, refusing any result that is not inside ``base`` (belt and braces)."""
    target = base.joinpath(*parts).resolve()
    root = base.resolve()
    if target != root and root not in target.parents:
        raise ValueError(f"refusing to write outside {root}")
    return target


def sender_county(file_name: str, county_code: str | None) -> str | None:
    """The county that sent a file, whose feedback folder gets the answer: the county its name names
    (a county in scope, or the province), else the county of its content. A file named for 衢江区 that
    holds 柯城区's rows came from 衢江区: its rejection is news for 衢江区, and 柯城区 learns nothing of it."""
    named = hint_from_name(file_name).county_code
    if named is not None and (named in counties() or named == PROVINCE_CODE):
        return named
    return county_code


@dataclass(frozen=True)
class NameHint:
    named_code: str | None = None     # a 6-digit code written in the name
    county_name: str | None = None    # the full county name found in the name (衢江区)
    year: int | None = None
    template: str | None = None

    @property
    def county_code(self) -> str | None:
        """The county the name points at (its code, else the code of the county it names)."""
        if self.named_code:
            return self.named_code
        if self.county_name:
            return next((c for c, n in counties().items() if n == self.county_name), None)
        if self.template and templates()[self.template].fixed_county_code:
            return templates()[self.template].fixed_county_code
        return None

    @property
    def group(self) -> str:
        return safe_county_dir(self.county_code)


def hint_from_name(name: str) -> NameHint:
    stem = unicodedata.normalize("NFKC", name).rsplit(".", 1)[0]
    codes = _CODE.findall(stem)
    years = [int(y) for y in _YEAR.findall(re.sub(r"\d{6,}", " ", stem)) if 2012 <= int(y) <= 2030]
    tpl = _template_in(stem)
    county_name = next((full for full in sorted(counties().values(), key=len, reverse=True) if full in stem), None)
    return NameHint(named_code=codes[0] if codes else None, county_name=county_name,
                    year=years[0] if years else None, template=tpl)


def _template_in(stem: str) -> str | None:
    lowered = stem.lower()
    found = [(len(t.name), t.name) for t in templates().values() if t.name in lowered]
    found += [(len(t.zh), t.name) for t in templates().values() if t.zh in stem]
    return max(found)[1] if found else None


def contradiction(hint: NameHint, *, template: str, county_code: str, year: int) -> tuple[str, dict] | None:
    """What in the name contradicts the content: (reason code, params), or None."""
    if hint.year is not None and hint.year != year:
        return "year_mismatch", {"name_year": hint.year, "content_year": year}
    if hint.template is not None and hint.template != template:
        named, found = templates()[hint.template].zh, templates()[template].zh
        return "name_contradicts_content", {"detail": f"文件名是“{named}”，内容是“{found}”"}
    if hint.county_name is not None and counties().get(county_code) not in (None, hint.county_name):
        return "name_contradicts_content", {
            "detail": f"文件名中的县是{hint.county_name}，内容中的县代码是{county_code}（{counties()[county_code]}）"}
    if hint.named_code is not None and hint.named_code != county_code:
        return "name_contradicts_content", {
            "detail": f"文件名中的县代码是{hint.named_code}，内容中的县代码是{county_code}"}
    return None
