"""The landing folder: which files are waiting, with their explanation sidecars, grouped per county."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lowincome.display import printable
from lowincome.ingest.landed import refusal
from lowincome.ingest.names import display_name, safe_name
from lowincome.ingest.readers import read_explanation, sidecar_stem
from lowincome.ingest.storage import private_folder, write_atomic

log = logging.getLogger(__name__)

PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
REFUSED_FOLDER = "refused"   # under the quarantine: landing entries refused unread (links, FIFOs, devices)


def is_submission(name: str) -> bool:
    """Hidden files (``.DS_Store``), ``_``-files, Office lock files (``~$x.xlsx``) and uploads still in
    progress are not submissions. A name that merely starts with ``..`` (``..\\..\\x.csv`` from a
    Windows zip) is one: it gets a ledger entry like any other file."""
    if name.startswith(".") and not name.startswith(".."):
        return False
    return not name.startswith(("_", "~$")) and not name.lower().endswith(PARTIAL_SUFFIXES)


def landing_files(landing: Path) -> list[Path]:
    """Files waiting in the landing folder, in a stable order (see :func:`is_submission`).

    Only regular files with one name count (:mod:`lowincome.ingest.landed`): a symbolic or hard link
    could be any file of the host. Such entries are :func:`refused_entries`; folders are not looked into.
    """
    return [path for path, why in _entries(landing) if why is None]


def refused_entries(landing: Path) -> list[tuple[Path, str]]:
    """Submissions in landing that may not be read (links, FIFOs, devices), each with why."""
    return [(path, why) for path, why in _entries(landing) if why is not None]


def _entries(landing: Path) -> list[tuple[Path, str | None]]:
    if not landing.is_dir():
        return []
    found = []
    for path in sorted(landing.iterdir(), key=lambda p: p.name):
        if not is_submission(path.name):
            continue
        try:
            entry = os.lstat(path)
        except FileNotFoundError:   # taken by another run while we looked
            continue
        if stat.S_ISDIR(entry.st_mode):
            continue
        found.append((path, refusal(entry)))
    return found


def refuse_unsafe(landing: Path, quarantine_dir: Path) -> list[tuple[Path, str, Path | None]]:
    """Every :func:`refused_entries` of ``landing`` :func:`set_aside`, with a note in ``<quarantine>/refused``:
    (entry, why, the note, or None when the entry could not be taken out of landing)."""
    refused_dir = quarantine_dir / REFUSED_FOLDER
    return [(path, why, set_aside(path, why, refused_dir)) for path, why in refused_entries(landing)]


def set_aside(path: Path, why: str, refused_dir: Path) -> Path | None:
    """Take a refused entry out of landing, unread, and write a note into ``refused_dir`` saying why.

    A symbolic link, FIFO or device is renamed into ``refused_dir`` (the entry itself, never what a link
    points at). A hard link is only removed from landing: the file keeps its other name, and a second name
    of a host file must not live on in the data folder, whose backups would copy it. Returns the note;
    None when the entry cannot be taken out (landing on another file system: it is refused again, and
    logged, on every run).
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    target = refused_dir / f"{stamp}_{safe_name(display_name(path))}"
    shown = printable(display_name(path))
    try:
        private_folder(refused_dir.parent, refused_dir)
        entry = os.lstat(path)
        if stat.S_ISREG(entry.st_mode):
            os.unlink(path)
            done = f"removed from landing; the file it names (inode {entry.st_ino}) is untouched"
        else:
            os.rename(path, target)
            done = f"moved to {target}"
    except OSError as err:
        log.warning("refused %s (%s) unread; it cannot be taken out of landing (%s): remove it by hand",
                    shown, why, err.strerror)
        return None
    note = target.with_name(target.name + ".reason.txt")
    write_atomic(note, f"landing entry: {shown}\nrefused unread: {why}\n{done}\n".encode())
    log.warning("refused %s unread: %s; %s", shown, why, done)
    return note


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
