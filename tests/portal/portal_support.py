"""Helpers of the portal tests (a module of its own name: never another folder's conftest)."""

from __future__ import annotations

import shutil
from pathlib import Path

from fixtures.county_files import households, relocations, table, write_csv, write_xlsx


def households_with_errors(path: Path, county: str = "330803", bad: bool = True) -> Path:
    rows = households(10, county=county)
    if bad:
        rows[2]["labour_count"] = 9          # more labour than people: the row is rejected
        rows[4]["identified_year"] = 2020    # identified after the year: the row is rejected
    if path.suffix == ".xlsx":
        return write_xlsx(path, [("households", table(rows, "households"))])
    return write_csv(path, table(rows, "households"))


def households_rejected(path: Path, county: str = "330803") -> Path:
    rows = households(5, county=county)
    for row in rows[:3]:
        row["labour_count"] = 9              # 3 of 5 rows fail: more than 20 %, the whole file goes back
    return write_csv(path, table(rows, "households"))


def relocations_with_warning(path: Path, county: str = "330803") -> Path:
    rows = relocations(2, county=county)
    rows[0]["household_subsidy"] = 990000.0   # above the standard per person: a warning, the row loads
    return write_csv(path, table(rows, "relocations"))


def drop_into(folder: Path, source: Path, explanation: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    if explanation:
        (folder / f"{source.stem}.上报说明.txt").write_text(explanation, encoding="utf-8")
    return target


CSRF = __import__("re").compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "every form carries a CSRF token"
    return found.group(1)


def add_users(cfg) -> dict[str, str]:
    from lowincome.portal.accounts import add_user
    from lowincome.portal.db import connect, ensure_tables

    ensure_tables(cfg)
    users = {"clerk1": ("330803", "clerk1-password"), "clerk2": ("331127", "clerk2-password"),
             "prov": (None, "province-password")}
    with connect(cfg) as conn:
        for name, (county, password) in users.items():
            add_user(conn, name, password, county=county, province=county is None)
    return {name: password for name, (_c, password) in users.items()}


def client_for(cfg):
    from fastapi.testclient import TestClient

    from lowincome.portal.app import create_app

    return TestClient(create_app(cfg), follow_redirects=False)


def login(client, username: str, password: str):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf": token})


def upload(client, path: Path, name: str | None = None):
    token = csrf_of(client.get("/upload").text)
    return client.post("/upload", data={"csrf": token},
                       files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")})


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class served_portal:
    """``lowincome portal --port P`` as a process of its own, on the environment of the test; its base URL."""

    def __init__(self):
        import sys

        self.command = [str(Path(sys.executable).with_name("lowincome")), "portal", "--port", str(free_port())]
        self.base = f"http://127.0.0.1:{self.command[-1]}"

    def __enter__(self) -> str:
        import subprocess
        import time

        import httpx

        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{self.base}/login", timeout=5)
                return self.base
            except httpx.TransportError:
                assert self.process.poll() is None and time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.5)

    def __exit__(self, *_exc) -> None:
        self.process.terminate()
        self.process.wait(30)
