"""Keyed pseudonyms for households and people (HMAC-SHA256).

A plain SHA-256 of an 18-digit ID number can be reversed by enumerating the few billion valid numbers
of a county; an HMAC with a secret key cannot without the key. The key comes from the environment
(``LOWINCOME_HMAC_KEY``) or the Airflow connection ``lowincome_hmac``, never from the repository.
The loader computes these while it streams rows into ``raw``, so the key never appears in SQL text,
dbt's compiled files or the server's logs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

SEPARATOR = "\x1f"  # unit separator: cannot occur in a code, so ("1", "23") and ("12", "3") differ


def keyed_hash(key: str | bytes, *parts: str) -> str:
    """Hex HMAC-SHA256 of the parts; None parts make no key (a blank household_id stays blank)."""
    if isinstance(key, str):
        key = key.encode()
    message = SEPARATOR.join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def make_hasher(key: str | bytes):
    """The loader's pseudonym function: ``keyed_hash`` with the key bound once (same output).

    The keyed HMAC state is built once and copied per value (``hmac`` objects' own ``copy``). The key is
    kept on the function as ``key`` (for a second parsing process) and that copier as ``keyed`` (for
    :func:`pseudonyms_of`).
    """
    if isinstance(key, str):
        key = key.encode()
    keyed = hmac.new(key, digestmod=hashlib.sha256).copy
    join = SEPARATOR.join

    def _hash(*parts: str | None) -> str | None:
        for part in parts:
            if part is None or part == "":
                return None
        mac = keyed()
        mac.update(join(parts).encode())  # type: ignore[arg-type]
        return mac.hexdigest()

    _hash.key = key  # type: ignore[attr-defined]
    _hash.keyed = keyed  # type: ignore[attr-defined]
    return _hash


def pseudonyms_of(hasher: Callable[..., str | None], columns: Sequence[Sequence[str | None]], rows: int
                  ) -> list[str | None]:
    """``hasher(*parts)`` for each of ``rows`` rows, the parts of row i being ``column[i]`` of each column.

    The loader's columns of values at once: for a :func:`make_hasher` hasher (it carries its keyed copier)
    the keyed HMAC is copied per value here, without a call of the hasher per row; any other hasher is called.
    """
    keyed = getattr(hasher, "keyed", None)
    if not columns:
        return [hasher() for _ in range(rows)]
    if keyed is None:
        return list(map(hasher, *columns))
    if len(columns) == 1:
        messages = columns[0]
    elif all(map(all, columns)):
        messages = list(map(SEPARATOR.join, zip(*columns, strict=True)))
    else:   # a blank (None or "") part makes no pseudonym, as in make_hasher
        join = SEPARATOR.join
        messages = [join(parts) if all(parts) else None for parts in zip(*columns, strict=True)]
    out: list[str | None] = []
    append = out.append
    for message in messages:
        if message:
            mac = keyed()
            mac.update(message.encode())
            append(mac.hexdigest())
        else:
            append(None)
    return out
