"""Files under ``$DATA``: the archive of original bytes (by checksum) and the quarantine.

Every write goes to a temporary name first and is renamed into place, so a crash never leaves half a
file under a final name; every target path is built from a checksum or a sanitised name and checked
to lie inside the data folder. What is written here holds names and ID numbers (the originals) or
values of them (feedback): files are created 0600 and folders 0700 (:func:`private_folder`), never
readable by other users even for an instant; a landing file is read through
:func:`lowincome.ingest.landed.open_landed` (no link followed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from lowincome.config import Settings
from lowincome.ingest.landed import open_landed
from lowincome.ingest.names import inside, safe_name

_CHUNK = 1 << 20
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def sha256_of(path: Path) -> tuple[str, int]:
    """Checksum and size of a landing file (refused unread when it is a link: :mod:`landed`)."""
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
