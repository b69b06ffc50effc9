"""Opening a file of the landing folder: never through a link, only a regular file with one name.

Whoever can write the landing folder can put a symbolic link or a hard link there to any file the
platform's user may read (``/etc/passwd``, a key): ingesting it would copy that file into the archive
and the quarantine. A landed entry is read only when it is a regular file whose only name is its name
in landing (``st_nlink == 1``). It is opened with ``O_NOFOLLOW`` and checked again on the open
descriptor, so a link put in its place after the folder was listed is refused too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO, Any


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
