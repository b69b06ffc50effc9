"""The landing folder: which files are waiting, with their explanation sidecars, grouped per county."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lowincome.ingest.readers import read_explanation, sidecar_stem

PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")


def is_submission(name: str) -> bool:
    """Hidden files (``.DS_Store``), ``_``-files, Office lock files (``~$x.xlsx``) and uploads still in
    progress are not submissions. A name that merely starts with ``..`` (``..\\..\\x.csv`` from a
    Windows zip) is one: it gets a ledger entry like any other file."""
    if name.startswith(".") and not name.startswith(".."):
        return False
    return not name.startswith(("_", "~$")) and not name.lower().endswith(PARTIAL_SUFFIXES)


def landing_files(landing: Path) -> list[Path]:
    """Files waiting in the landing folder, in a stable order (see :func:`is_submission`).

    Only regular files count: a symlink could point anywhere on the host, so it is never followed.
    """
    if not landing.is_dir():
        return []
    return sorted(
        (p for p in landing.iterdir() if not p.is_symlink() and p.is_file() and is_submission(p.name)),
        key=lambda p: p.name,
    )


@dataclass
class Arrival:
    """One submission: the data file and the 上报说明 sidecar(s) that came with it."""

    path: Path
    sidecars: list[Path] = field(default_factory=list)

    def explanation(self) -> str | None:
        texts = [t for t in (read_explanation(p) for p in self.sidecars) if t]
        return "\n".join(texts) or None


def arrivals(landing: Path) -> list[Arrival]:
    """Submissions in arrival order (modification time, then name), sidecars attached to their file.

    A ``<stem>.上报说明.txt`` / ``<stem>_说明.txt`` (or a plain ``<stem>.txt`` beside ``<stem>.xlsx``) is
    the county's explanation for the data file ``<stem>.*``; a text file that belongs to no data file is
    a submission of its own (and will be read as CSV).
    """
    files = landing_files(landing)
    by_stem: dict[str, Arrival] = {}
    found: list[Arrival] = []
    for path in files:
        if path.suffix.lower() == ".txt":
            continue
        arrival = Arrival(path)
        by_stem.setdefault(path.stem, arrival)
        found.append(arrival)
    for path in files:
        if path.suffix.lower() != ".txt":
            continue
        stem = sidecar_stem(path)
        owner = by_stem.get(stem) if stem is not None else None
        owner = owner or by_stem.get(path.stem)
        if owner is not None:
            owner.sidecars.append(path)
        else:
            found.append(Arrival(path))

    def arrived(a: Arrival) -> tuple[int, str]:
        try:
            return os.stat(a.path).st_mtime_ns, a.path.name
        except OSError:
            return 0, a.path.name

    return sorted(found, key=arrived)
