"""Files under ``$DATA``: the archive of original bytes (by checksum) and the quarantine.

Every write goes to a temporary name first and is renamed into place, so a crash never leaves half a
file under a final name; every target path is built from a checksum or a sanitised name and checked
to lie inside the data folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from lowincome.config import Settings
from lowincome.ingest.names import inside, safe_name

_CHUNK = 1 << 20


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def archive_path(cfg: Settings, sha: str) -> Path:
    return inside(cfg.archive_dir, sha[:2], sha)


def archive(cfg: Settings, path: Path, sha: str) -> Path:
    """Keep the original bytes under their checksum (once; the same bytes again change nothing)."""
    target = archive_path(cfg, sha)
    if target.exists() and target.stat().st_size == path.stat().st_size:
        return target
    _copy_atomic(path, target)
    return target


def quarantine(cfg: Settings, sha: str, file_name: str, note: str) -> Path:
    """A rejected file's bytes (from the archive) beside a ``.reason.txt`` that says why."""
    name = f"{sha[:12]}_{safe_name(file_name)}"
    target = inside(cfg.quarantine_dir, name)
    if not target.exists():
        _copy_atomic(archive_path(cfg, sha), target)
    _write_atomic(inside(cfg.quarantine_dir, name + ".reason.txt"), note.encode("utf-8"))
    return target


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _copy_atomic(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        remove(tmp)


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        remove(tmp)


def write_atomic(target: Path, data: bytes) -> None:
    _write_atomic(target, data)
