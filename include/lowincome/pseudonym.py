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
    kept on the function as ``key`` for the row code of :mod:`lowincome.speedups.row_code`.
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
    return _hash
