"""The table ``make bench`` prints, and the machine it ran on (for RESULTS.md)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.harness import Result

HEAD = ("section", "measure", "project", "reference", "ratio", "target", "status")


def machine(server_version: str | None = None) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"nproc": nproc, "memory": memory, "cpu": cpu, "postgresql": server_version or "?",
            "python": platform.python_version(), "load_at_start": load and [round(x, 2) for x in load]}


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "rows/s" or abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def rows_of(results: list[Result]) -> list[tuple[str, ...]]:
    rows = []
    for r in results:
        if r.skipped or r.error:
            rows.append((r.section, r.measure, "-", "-", "-", r.target or "-", r.status))
            continue
        reference = f"{_number(r.reference_value, r.unit)} ({r.reference})" if r.reference else "-"
        ratio = "-" if r.ratio is None else f"{r.ratio:.3g}"
        rows.append((r.section, r.measure, _number(r.value, r.unit), reference, ratio, r.target or "-", r.status))
    return rows


def summary(results: list[Result]) -> str:
    """One line: how many targets were met and missed, and how many rows have no figure."""
    counts = {status: sum(1 for r in results if r.status == status)
              for status in ("met", "missed", "no ratio", "ERROR", "SKIP")}
    judged = counts["met"] + counts["missed"]
    parts = [f"targets: {counts['met']} of {judged} met, {counts['missed']} missed"]
    parts += [f"{n} {label}" for label, n in (("without a ratio", counts["no ratio"]), ("failed", counts["ERROR"]),
                                                ("skipped", counts["SKIP"])) if n]
    return "; ".join(parts)


def _notes(results: list[Result], template: str) -> list[str]:
    return [template.format(section=r.section, measure=r.measure, text=r.error or r.skipped or r.note)
            for r in results if r.error or r.skipped or r.note]


def text_table(results: list[Result]) -> str:
    rows = [HEAD, *rows_of(results)]
    widths = [min(max(len(row[i]) for row in rows), 64) for i in range(len(HEAD))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell[:widths[i]].ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = _notes(results, "  [{section}] {measure}: {text}")
    return "\n".join([*lines, "", summary(results), *([""] + notes if notes else [])])


def markdown_table(results: list[Result]) -> str:
    rows = rows_of(results)
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    notes = [line.replace("|", "\\|") for line in _notes(results, "- **{section} / {measure}**: {text}")]
    return "\n".join([*out, "", summary(results) + ".", *([""] + notes if notes else [])])


def write(out: Path, results: list[Result], meta: dict[str, Any]) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    json_path.write_text(json.dumps({"meta": meta, "results": [r.to_json() for r in results]},
                                    ensure_ascii=False, indent=1, default=str) + "\n")
    md_path = out / "results.md"
    lines = [f"Run {meta.get('finished_at', '')}: `{meta.get('command', '')}`", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in meta.get("machine", {}).items()), "",
             markdown_table(results), ""]
    md_path.write_text("\n".join(lines))
    return json_path, md_path
