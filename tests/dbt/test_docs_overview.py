"""The dbt docs open on the project's own overview (layers, where to start, how targets are defined), and
each published mart says its key and allowed values are database constraints (so its page lists no tests)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    from lowincome.config import settings
    from lowincome.transform import run_dbt

    target = tmp_path_factory.mktemp("parse")
    run_dbt(settings(), ["parse", "--target-path", str(target)])
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def test_the_docs_open_on_the_projects_overview(manifest):
    overview = manifest["docs"]["doc.lowincome.__overview__"]["block_contents"]
    for words in ("The layers", "分层", "Where to start", "从哪里开始", "How the targets are defined", "目标如何定义",
                  "target_attainment", "seed **`targets`**", "check constraints"):
        assert words in overview, words


def test_every_published_mart_says_its_keys_are_constraints(manifest):
    marts = {node["name"]: node for node in manifest["nodes"].values()
             if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")}
    assert {"target_attainment", "submission_completeness", "plan_targets"} <= set(marts)
    for name, node in marts.items():
        assert "primary key" in node["description"] and "check constraints" in node["description"], name
