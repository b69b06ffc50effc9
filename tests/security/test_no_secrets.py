"""No secret in the repository: keys and passwords come from the environment or Airflow connections."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Assignments of a literal value to something named like a secret, in code or config.
SECRET_ASSIGNMENT = re.compile(
    r"""(?ix)(password|passwd|secret|hmac_key|api_key|fernet_key|token)\s*[:=]\s*["']([^"'\s${}<>]{8,})["']"""
)
URL_WITH_PASSWORD = re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^:/@\s]+:([^@\s/${}]{6,})@")
ALLOWED_LITERALS = {"test-key-not-a-secret"}  # the test suite's own, deliberately public HMAC key


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_no_literal_secret_in_tracked_files():
    findings = []
    for path in tracked_files():
        text = _text(path)
        if text is None:
            continue
        for match in SECRET_ASSIGNMENT.finditer(text):
            if match.group(2) not in ALLOWED_LITERALS:
                findings.append(f"{path.relative_to(ROOT)}: {match.group(0)[:60]}")
        if URL_WITH_PASSWORD.search(text):
            findings.append(f"{path.relative_to(ROOT)}: URL with a password")
    assert not findings, "\n".join(findings)


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout")
def test_locally_generated_secrets_are_not_tracked():
    from lowincome.config import settings

    secrets_file = settings().state_dir / "secrets.env"
    names = {str(p.relative_to(ROOT)) for p in tracked_files()}
    assert not any(name.startswith((".lowincome/", ".venv/", "data/")) for name in names)
    if secrets_file.exists():
        values = [line.split("=", 1)[1] for line in secrets_file.read_text().splitlines()
                  if "=" in line and not line.startswith("#")]
        for path in tracked_files():
            text = _text(path) or ""
            for value in values:
                assert value not in text, f"{path.relative_to(ROOT)} holds a generated secret"


def test_secrets_file_is_private(cfg):
    secrets_file = cfg.state_dir / "secrets.env"
    if secrets_file.exists():
        assert secrets_file.stat().st_mode & 0o077 == 0
