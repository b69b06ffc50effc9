"""The loader's fast pseudonym function is exactly HMAC-SHA256, for every key length."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from lowincome.pseudonym import SEPARATOR, keyed_hash, make_hasher


@pytest.mark.parametrize("key", ["k", "test-key-not-a-secret", "x" * 64, "长" * 40, b"\x00\xff" * 100])
def test_fast_hasher_is_hmac_sha256(key):
    fast = make_hasher(key)
    raw_key = key.encode() if isinstance(key, str) else key
    for parts in [("330803", "H00001"), ("330803198001010011",), ("a", "bc"), ("ab", "c"), ("县", "户")]:
        expected = hmac.new(raw_key, SEPARATOR.join(parts).encode(), hashlib.sha256).hexdigest()
        assert fast(*parts) == expected == keyed_hash(key, *parts)


def test_parts_are_separated_and_blanks_give_no_key():
    fast = make_hasher("k")
    assert fast("1", "23") != fast("12", "3")
    assert fast("330803", None) is None
    assert fast("", "H1") is None


def test_stable_for_one_key_and_different_for_another():
    parts = ("330803", "330803196503020011")
    assert make_hasher("key-a")(*parts) == make_hasher("key-a")(*parts) == keyed_hash("key-a", *parts)
    assert make_hasher("key-a")(*parts) != make_hasher("key-b")(*parts)
    assert make_hasher("key-a")(*parts) != hashlib.sha256(SEPARATOR.join(parts).encode()).hexdigest()
