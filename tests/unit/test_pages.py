"""The published pages the plugin serves: a section's files only, a folder's index.html, nothing outside.
Served by the running api-server to signed-in users: tests/scheduler/test_after_lowincome_run.py."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from lowincome.config import Settings
from lowincome.pages import external_views, published_file


@pytest.fixture
def cfg(tmp_path) -> Settings:
    cfg = Settings(project_root=tmp_path, state_dir=tmp_path / "state", data_dir=tmp_path / "data",
                   external_url="postgresql://u:p@127.0.0.1:5432/w")
    (cfg.reports_dir / "charts").mkdir(parents=True)
    (cfg.reports_dir / "index.html").write_text("<html>report</html>")
    (cfg.reports_dir / "charts" / "a.svg").write_text("<svg/>")
    (cfg.docs_dir / "dbt").mkdir(parents=True)
    (cfg.docs_dir / "dbt" / "index.html").write_text("<html>dbt</html>")
    (cfg.state_dir).mkdir()
    (cfg.state_dir / "secrets.env").write_text("KEY=x")
    return cfg


def test_a_section_serves_its_own_files(cfg):
    assert published_file(cfg, "report", "index.html").read_text() == "<html>report</html>"
    assert published_file(cfg, "report", "").name == "index.html"             # the folder's index
    assert published_file(cfg, "report", "charts/a.svg").read_text() == "<svg/>"
    assert published_file(cfg, "dbt", "index.html").read_text() == "<html>dbt</html>"


@pytest.mark.parametrize(("section", "path"), [
    ("report", "../../state/secrets.env"), ("report", "/etc/passwd"), ("dbt", "../validation/x.html"),
    ("report", "missing.html"), ("state", "secrets.env")])
def test_nothing_outside_a_section_nor_a_missing_page(cfg, section, path):
    with pytest.raises(HTTPException) as raised:
        published_file(cfg, section, path)
    assert raised.value.status_code == 404


def test_validation_docs_not_yet_written_say_so(cfg):
    with pytest.raises(HTTPException, match="not published yet"):
        published_file(cfg, "validation", "index.html")


def test_the_navigation_links_each_section_relative_to_the_ui():
    views = external_views()
    assert [v["href"] for v in views] == ["lowincome/report/index.html", "lowincome/validation/index.html",
                                          "lowincome/dbt/index.html"]
    assert all(v["category"] == "browse" and v["destination"] == "nav" for v in views)
