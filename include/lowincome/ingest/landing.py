"""The landing folder: which files are waiting."""

from __future__ import annotations

from pathlib import Path


def landing_files(landing: Path) -> list[Path]:
    """Files waiting in the landing folder, in a stable order; dot-files and ``_``-files are not submissions."""
    if not landing.is_dir():
        return []
    return sorted(
        (p for p in landing.iterdir() if p.is_file() and not p.name.startswith((".", "_"))),
        key=lambda p: p.name,
    )
