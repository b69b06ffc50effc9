"""Files that hold personal data or secrets are the owner's alone (issue 27, item 7).

The archived originals (names and ID numbers), the quarantine copies and their notes, the county
feedback files (values of the columns they quote), the local secrets and Airflow's generated admin
password: files 0600, their folders 0700, as the project creates them, checked with ``os.stat`` after a
real ingest and a real start of Airflow's auth manager.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from fixtures.county_files import households, table, villages, write_csv
from fixtures.ingest_support import ingest, submission


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def tree(root: Path) -> tuple[list[Path], list[Path]]:
    """Every folder (root included) and file below root."""
    folders, files = [root], []
    for path in sorted(root.rglob("*")):
        (folders if path.is_dir() else files).append(path)
    return folders, files


def test_archive_quarantine_and_feedback_are_owner_only(empty_warehouse):
    cfg = empty_warehouse
    # an installation of an older version left the archive readable by everyone
    cfg.archive_dir.mkdir(parents=True)
    cfg.archive_dir.chmod(0o755)
    write_csv(cfg.landing_dir / "330802_households_2014.csv", table(households(4, county="330802"), "households"))
    write_csv(cfg.landing_dir / "330803_villages_2014.csv",
              table([{**r, "county_code": None} for r in villages(3, county="330803")], "villages"))   # rejected
    outcomes = ingest(cfg)
    assert {n: o.status for n, o in outcomes.items()} == {"330802_households_2014.csv": "loaded",
                                                         "330803_villages_2014.csv": "rejected"}
    for root in (cfg.archive_dir, cfg.quarantine_dir, cfg.feedback_dir):
        folders, files = tree(root)
        assert files, root
        assert {str(p): oct(mode(p)) for p in folders} == {str(p): "0o700" for p in folders}
        assert {str(p): oct(mode(p)) for p in files} == {str(p): "0o600" for p in files}
    rejected = submission(cfg, "330803_villages_2014.csv")
    assert any(p.name.endswith(".reason.txt") for p in cfg.quarantine_dir.iterdir())
    assert mode(Path(rejected["archive_path"])) == 0o600 and mode(Path(rejected["feedback_path"])) == 0o600


def test_secrets_env_is_created_owner_only_and_an_old_one_is_tightened(tmp_path):
    from lowincome.config import read_or_create_secrets

    state = tmp_path / "state"
    values = read_or_create_secrets(state / "secrets.env")
    assert mode(state / "secrets.env") == 0o600 and mode(state) == 0o700
    # written by an older version: readable by others, in a folder others could list
    (state / "secrets.env").chmod(0o644)
    state.chmod(0o755)
    assert read_or_create_secrets(state / "secrets.env") == values
    assert mode(state / "secrets.env") == 0o600
    assert mode(state) == 0o711   # others may pass (the embedded server's own user must), never list


def test_airflow_password_file_is_owner_only_before_and_after_airflow_writes_it(tmp_path, monkeypatch):
    from lowincome import airflow_env
    from lowincome.config import settings

    monkeypatch.setenv("LOWINCOME_AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.delenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", raising=False)
    saved = dict(os.environ)
    try:
        env = airflow_env.apply(settings())   # it sets the process's environment: put back below
    finally:
        os.environ.clear()
        os.environ.update(saved)
    password_file = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    assert password_file.parent == tmp_path / "airflow"
    assert mode(password_file) == 0o600 and mode(password_file.parent) == 0o700
    # Airflow's own auth manager generates the admin password into it (as the api-server does at start)
    child = {**os.environ, **env, "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin"}
    done = subprocess.run(
        [sys.executable, "-c", "from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import "
                               "SimpleAuthManager; SimpleAuthManager().init()"],
        env=child, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "admin" in json.loads(password_file.read_text())
    assert mode(password_file) == 0o600
