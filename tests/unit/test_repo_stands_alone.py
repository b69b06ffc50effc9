"""The repository stands alone: no tracked file points outside the clone for what a newcomer needs.

Definitions, the data contract and the decisions live in ``docs/``; a path to the brief the team was
given (``shared/docs/...``, ``../shared``) means nothing in a clone.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"shared/docs|\.\./shared")


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"not a git checkout: {err}")
    return [name for name in out.decode().split("\0") if name]


def mentions_outside(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if OUTSIDE.search(line)]


def test_the_pattern_catches_what_it_should():
    assert mentions_outside("-- defined in shared/docs/domain.md")
    assert mentions_outside("# the contract (../shared/docs/submission-templates.md)")
    assert mentions_outside("see ../shared/brief")
    assert not mentions_outside("-- defined in docs/domain.md")
    assert not mentions_outside("a shared/ folder of our own and shared_docs")


def test_no_tracked_file_points_outside_the_repository():
    offenders = {}
    for name in tracked_files():
        if name == "tests/unit/test_repo_stands_alone.py":
            continue
        path = ROOT / name
        if not path.is_file():   # deleted in the working tree, not yet committed
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = mentions_outside(text)
        if found:
            offenders[name] = found
    assert not offenders, (
        "these files point outside the repository; point them at docs/ instead: "
        + "; ".join(f"{name}: {lines[0]}" for name, lines in sorted(offenders.items())))


def test_the_docs_it_points_to_exist():
    for name in ("docs/README.md", "docs/domain.md", "docs/data-contract.md"):
        assert (ROOT / name).is_file(), name
    assert any((ROOT / "docs" / "decisions").glob("*.md"))
