"""The row function of a file written out as Python source and compiled: the common cases inline.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0``: :func:`lowincome.ingest.normalise.compile_normaliser`
builds the same function from one small function per column, and pseudonyms come from ``hmac``).
Measured on 100,000 rows of 12 columns and 2 pseudonyms (the two functions timed in one process, best of
5): 1.6 s written out with the HMAC inline, 3.1 s as per-column functions with ``hmac``. The per-row parse
is most of the CSV path's time (2.8 s of 4.0 s for 250,000 rows), so this is what keeps the CSV ingest
near its target of a third of COPY's speed (``python -m benchmarks --only ingest``, both ways).

The source is built only from the file's column specs (positions, kinds, our own cell functions): no
text from the file ever reaches it. The HMAC written inline is RFC 2104, H((K ^ opad) || H((K ^ ipad) ||
m)), with the two keyed SHA-256 states computed once; ``tests/unit/test_readers.py`` checks it against
``hmac`` for every row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from lowincome.pseudonym import SEPARATOR


def keyed_states(hasher: Callable | None) -> tuple[Callable, Callable] | None:
    """The inner and outer keyed SHA-256 states' ``copy`` of a make_hasher hasher; None for another."""
    key = getattr(hasher, "key", None)
    if not isinstance(key, bytes):
        return None
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)).copy, hashlib.sha256(bytes(b ^ 0x5C for b in key)).copy)


def compiled_normaliser(specs: list[tuple[int, str, Callable | None]],
                       pseudonyms: list[list[int]] = (), hasher: Callable[..., str | None] | None = None,
                       *, cell_rules: tuple[dict, Callable, Callable, Callable]
                       ) -> Callable[[list, int], tuple | None]:
    """One function ``(cells, row number) -> load-table row`` for a file's columns, None for a blank row.

    ``specs``: (position in the file row, kind, function) with kind ``text`` (trim, half-width),
    ``number`` (text, then thousands separators dropped) or ``call`` (the function does it all).
    ``pseudonyms``: for each pseudonym column, the indexes (into ``specs``) of the values it hashes; a
    blank part makes no pseudonym. With a hasher from :func:`lowincome.pseudonym.make_hasher` (it carries its
    key) the HMAC is written inline (two keyed SHA-256 states copied per value); any other is called.
    The row is ``(row number, *values, *pseudonyms)``. ``cell_rules``: the full-width table, its search,
    ``text_of`` and ``plain_number`` of :mod:`lowincome.ingest.normalise` (handed in, so that this module
    imports nothing of ingest and the two do not import each other).
    """
    full_width, has_full_width, text_of, plain_number = cell_rules
    namespace: dict = {"FW": full_width, "has_fw": has_full_width, "text_of": text_of, "plain": plain_number,
                       "H": hasher, "SEP": SEPARATOR}
    lines = ["def normalise(c, n):"]
    names = []
    for i, (position, kind, func) in enumerate(specs):
        v = f"v{i}"
        names.append(v)
        if kind == "call":
            namespace[f"f{i}"] = func
            lines.append(f"    {v} = f{i}(c[{position}])")
            continue
        lines += [
            f"    {v} = c[{position}]",
            f"    if {v}.__class__ is str:",
            f"        if not {v}.isascii() and has_fw({v}): {v} = {v}.translate(FW)",
            f"        {v} = {v}.strip() or None",
            f"    else: {v} = text_of({v})",
        ]
        if kind == "number":
            lines.append(f"    if {v} is not None and ',' in {v}: {v} = plain({v})")
    if names:
        lines.append(f"    if not ({' or '.join(names)}): return None")
    else:
        lines.append("    return None")
    states = keyed_states(hasher)
    if states is not None:
        namespace["inner"], namespace["outer"] = states
    for k, parts in enumerate(pseudonyms):
        p = f"p{k}"
        values = [f"v{i}" for i in parts]
        if states is None:
            lines.append(f"    {p} = H({', '.join(values)})")
            names.append(p)
            continue
        # blank (None or "") parts make no key, as in make_hasher; values are str or None here
        message = " + SEP + ".join(values)
        lines += [
            f"    if {' and '.join(values)}:",
            f"        h = inner(); h.update(({message}).encode()); g = outer(); g.update(h.digest())",
            f"        {p} = g.hexdigest()",
            f"    else: {p} = None",
        ]
        names.append(p)
    lines.append(f"    return (n, {', '.join(names)})")
    exec("\n".join(lines), namespace)  # noqa: S102 - source built above from our own column specs only
    return namespace["normalise"]
