"""The row function of a file written out as Python source and compiled: the common cases inline.

Part of :mod:`lowincome.speedups` (``LOWINCOME_SPEEDUPS=0``: :func:`lowincome.ingest.normalise.compile_normaliser`
builds the same function from one small function per column, and pseudonyms come from ``hmac``).
The per-row parse is most of the CSV path's time, so this is what keeps the CSV ingest near its target
of a third of COPY's speed (``python -m benchmarks --only ingest``, both ways; the gain is in the README's
speed-ups table).

The source is built only from the file's column specs (positions, kinds, our own cell functions): no
text from the file ever reaches it. Pseudonyms are ``hmac``'s own: the keyed HMAC object is built once per
file and copied per value (``hmac.HMAC.copy``, the documented way to reuse a common key);
``tests/unit/test_readers.py`` checks them against :func:`lowincome.pseudonym.keyed_hash` for every row.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from lowincome.pseudonym import SEPARATOR


def keyed_hmac(hasher: Callable | None) -> Callable | None:
    """``copy`` of the keyed HMAC-SHA256 object of a make_hasher hasher (it carries its key); None for another."""
    key = getattr(hasher, "key", None)
    if not isinstance(key, bytes):
        return None
    return hmac.new(key, digestmod="sha256").copy


def compiled_normaliser(specs: list[tuple[int, str, Callable | None]],
                       pseudonyms: list[list[int]] = (), hasher: Callable[..., str | None] | None = None,
                       *, cell_rules: tuple[dict, Callable, Callable, Callable]
                       ) -> Callable[[list, int], tuple | None]:
    """One function ``(cells, row number) -> load-table row`` for a file's columns, None for a blank row.

    ``specs``: (position in the file row, kind, function) with kind ``text`` (trim, half-width),
    ``number`` (text, then thousands separators dropped) or ``call`` (the function does it all).
    ``pseudonyms``: for each pseudonym column, the indexes (into ``specs``) of the values it hashes; a
    blank part makes no pseudonym. With a hasher from :func:`lowincome.pseudonym.make_hasher` (it carries its
    key) the keyed HMAC is copied per value inline; any other is called.
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
    keyed = keyed_hmac(hasher)
    if keyed is not None:
        namespace["keyed"] = keyed
    for k, parts in enumerate(pseudonyms):
        p = f"p{k}"
        values = [f"v{i}" for i in parts]
        if keyed is None:
            lines.append(f"    {p} = H({', '.join(values)})")
            names.append(p)
            continue
        # blank (None or "") parts make no key, as in make_hasher; values are str or None here
        message = " + SEP + ".join(values)
        lines += [
            f"    if {' and '.join(values)}:",
            f"        h = keyed(); h.update(({message}).encode()); {p} = h.hexdigest()",
            f"    else: {p} = None",
        ]
        names.append(p)
    lines.append(f"    return (n, {', '.join(names)})")
    exec("\n".join(lines), namespace)  # noqa: S102 - source built above from our own column specs only
    return namespace["normalise"]
