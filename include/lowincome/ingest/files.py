"""Files on disk: the landing folder (what waits, opened safely), the archive of original bytes and the
quarantine. Not a stage of the pipeline: where a file arrives before it is read, and where it is kept.

Landing. A submission is a data file with its 上报说明 sidecar(s) (:class:`Arrival`), in arrival order.
Whoever can write the landing folder can put a symbolic link or a hard link there to any file the
platform's user may read (``/etc/passwd``, a key): ingesting it would copy that file into the archive
and the quarantine. A landed entry is read only when it is a regular file whose only name is its name
in landing (``st_nlink == 1``). It is opened with ``O_NOFOLLOW`` and checked again on the open
descriptor (:func:`open_landed`), so a link put in its place after the folder was listed is refused
too; refused entries are set aside unread (:func:`refuse_unsafe`).

Archive and quarantine. Every write goes to a temporary name first and is renamed into place, so a
crash never leaves half a file under a final name; every target path is built from a checksum or a
sanitised name (:func:`safe_name`) and checked to lie inside the data folder (:func:`inside`). A name
is never used as a path: ``../../etc/passwd.csv`` or a name with control characters or bytes that are
not UTF-8 cannot write outside the data folder. A filesystem bounds a name in bytes (255 on ext4 and
xfs), not characters: a sanitised name is cut to :data:`MAX_NAME` bytes of UTF-8, which leaves room for
the prefixes and suffixes the project adds (checksum, submission id, ``.reason.txt``, a temporary
``.<name>.<pid>.tmp``), and a cut name ends in a digest of the whole so that two long names stay apart.
What is written here holds names and ID numbers (the originals) or values of them (feedback): files
are created 0600 and folders 0700 (:func:`private_folder`), never readable by other users even for an
instant.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
import os
import re
import shutil
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lowincome.config import Settings
from lowincome.display import printable

log = logging.getLogger(__name__)
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
_CHUNK = 1 << 20
MAX_NAME = 120          # bytes (UTF-8) of a sanitised name: 255, the filesystem's limit, less our affixes
_UNSAFE = re.compile(r"[^\w.\-()（）\u4e00-\u9fff]+")
PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
REFUSED_FOLDER = "refused"   # under the quarantine: landing entries refused unread (links, FIFOs, devices)
_SIDE_SUFFIX = re.compile(r"[._\-\s]*(上报说明|说明)$")


# --- the landing folder: what waits, with its sidecars --------------------------------------------

def is_submission(name: str) -> bool:
    """Hidden files (``.DS_Store``), ``_``-files, Office lock files (``~$x.xlsx``) and uploads still in
    progress are not submissions. A name that merely starts with ``..`` (``..\\..\\x.csv`` from a
    Windows zip) is one: it gets a ledger entry like any other file."""
    if name.startswith(".") and not name.startswith(".."):
        return False
    return not name.startswith(("_", "~$")) and not name.lower().endswith(PARTIAL_SUFFIXES)


def landing_files(landing: Path) -> list[Path]:
    """Files waiting in the landing folder, in a stable order (see :func:`is_submission`).

    Only regular files with one name count (:func:`open_landed`): a symbolic or hard link
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


def read_explanation(path: Path) -> str | None:
    """A sidecar text file's content (the county's 上报说明), at most 10,000 characters."""
    try:
        with open_landed(path) as handle:
            data = handle.read(40_000)
    except OSError:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("utf-8", "replace")
    return text.strip()[:10_000] or None


def sidecar_stem(path: Path) -> str | None:
    """The data file stem a ``<stem>.上报说明.txt`` / ``<stem>_说明.txt`` sidecar belongs to, if it is one."""
    if path.suffix.lower() != ".txt":
        return None
    stem = path.stem
    found = _SIDE_SUFFIX.search(stem)
    return stem[: found.start()] if found else None


# --- a landed file, opened safely -----------------------------------------------------------------

class NotRegularFile(OSError):
    """A landing entry that is not a regular file with one name: refused unread."""


def refusal(found: os.stat_result) -> str | None:
    """Why an entry (``lstat``) may not be read, in words for the operator; None when it may."""
    if stat.S_ISLNK(found.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(found.st_mode):
        return "not a regular file"
    if found.st_nlink != 1:
        return f"a hard link (the file has {found.st_nlink} names)"
    return None


def why_refused(path: Path) -> str | None:
    """:func:`refusal` of the entry at ``path`` (not following a link); None when it is gone."""
    try:
        return refusal(os.lstat(path))
    except FileNotFoundError:
        return None


def open_landed(path: Path, mode: str = "rb", **kwargs: Any) -> IO:
    """``open(path, mode)`` for reading, refused with :class:`NotRegularFile` unless the entry is a
    regular file with one name (checked on the descriptor opened, never following a symbolic link)."""
    # O_NONBLOCK: opening a FIFO for reading must not wait for a writer (it is refused right after)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise NotRegularFile(errno.ELOOP, "a symbolic link", str(path)) from None
        raise
    try:
        why = refusal(os.fstat(fd))
        if why is not None:
            raise NotRegularFile(errno.EPERM, why, str(path))
        os.set_blocking(fd, True)
        return open(fd, mode, **kwargs)  # noqa: SIM115 - the caller closes it
    except BaseException:
        os.close(fd)
        raise


# --- names safe to write -------------------------------------------------------------------------

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


# --- the archive and the quarantine ---------------------------------------------------------------

def sha256_of(path: Path) -> tuple[str, int]:
    """Checksum and size of a landing file (refused unread when it is a link: :func:`open_landed`)."""
    digest = hashlib.sha256()
    size = 0
    with open_landed(path) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def archive_path(cfg: Settings, sha: str) -> Path:
    return inside(cfg.archive_dir, sha[:2], sha)


def archive(cfg: Settings, path: Path, sha: str) -> Path:
    """Keep the original bytes under their checksum (once; the same bytes again change nothing)."""
    target = archive_path(cfg, sha)
    private_folder(cfg.archive_dir, target.parent)
    with open_landed(path) as source:
        if target.exists() and target.stat().st_size == os.fstat(source.fileno()).st_size:
            return target
        _copy_atomic(source, target)
    return target


def quarantine(cfg: Settings, sha: str, file_name: str, note: str) -> Path:
    """A rejected file's bytes (from the archive) beside a ``.reason.txt`` that says why."""
    name = f"{sha[:12]}_{safe_name(file_name)}"
    target = inside(cfg.quarantine_dir, name)
    private_folder(cfg.quarantine_dir, target.parent)
    if not target.exists():
        with archive_path(cfg, sha).open("rb") as source:
            _copy_atomic(source, target)
    _write_atomic(inside(cfg.quarantine_dir, name + ".reason.txt"), note.encode("utf-8"))
    return target


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def private_folder(root: Path, folder: Path) -> None:
    """``root`` and the folders from it down to ``folder``, owner-only (0700): created so when missing,
    and ``root`` made so when an older installation left it readable by others (it then guards every
    file below it, whatever their own mode)."""
    root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    if root.stat().st_mode & 0o077:
        root.chmod(PRIVATE_FOLDER)
    below = folder.resolve().relative_to(root.resolve()).parts
    current = root
    for part in below:
        current = current / part
        try:
            current.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            pass


def _missing_folders(folder: Path) -> None:
    """``folder`` and its missing parents, each created owner-only (``mkdir -p`` gives parents 0755)."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:
            pass


def _private_file(path: Path):
    """A new file at ``path`` for writing, created owner-only (0600) and never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    return open(fd, "wb")  # noqa: SIM115 - the caller closes it


def _copy_atomic(source, target: Path) -> None:
    """The rest of the open file ``source`` into ``target`` (its folder exists: :func:`private_folder`)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    remove(tmp)   # left by a killed run of a process with the same pid
    try:
        with _private_file(tmp) as out:
            shutil.copyfileobj(source, out, _CHUNK)
        os.replace(tmp, target)
    finally:
        remove(tmp)


def _write_atomic(target: Path, data: bytes) -> None:
    _missing_folders(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    remove(tmp)
    try:
        with _private_file(tmp) as out:
            out.write(data)
        os.replace(tmp, target)
    finally:
        remove(tmp)


def write_atomic(target: Path, data: bytes) -> None:
    _write_atomic(target, data)
