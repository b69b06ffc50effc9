"""The portal as clerks and the province meet it: accounts, 审核, submit, calendar, board, and the walls
between counties."""

from __future__ import annotations

import csv
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psycopg
import pytest
from fixtures.ingest_support import ingest
from portal_support import (
    add_users,
    client_for,
    csrf_of,
    households_with_errors,
    login,
    relocations_with_warning,
    upload,
)

from lowincome.templates import template

LOWINCOME = str(Path(sys.executable).with_name("lowincome"))


@pytest.fixture
def portal(empty_warehouse):
    cfg = empty_warehouse
    return cfg, add_users(cfg)


def _upload_id(response) -> int:
    found = re.search(r'action="/uploads/(\d+)/withdraw"', response.text)
    assert found, response.text[:2000]
    return int(found.group(1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_acceptance_through_the_command(empty_warehouse, tmp_path):
    """`lowincome portal-user add` reads the password from stdin; `lowincome portal --port P` serves the
    login form, the calendar and the upload's findings."""
    cfg = empty_warehouse
    done = subprocess.run([LOWINCOME, "portal-user", "add", "--county", "330803", "clerk1"],
                          input="a-long-password\n", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(cfg.warehouse_url()) as conn:
        stored = conn.execute("select password_hash from ops.portal_users where username = 'clerk1'").fetchone()[0]
    assert stored.startswith("$argon2id$") and "a-long-password" not in stored
    port = _free_port()
    server = subprocess.Popen([LOWINCOME, "portal", "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        import httpx

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                form = httpx.get(f"{base}/login", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.5)
        assert form.status_code == 200
        assert re.search(r'<form method="post" action="/login"', form.text)
        assert 'name="username"' in form.text and 'name="password"' in form.text
        with httpx.Client(base_url=base, timeout=120, cookies=form.cookies) as client:
            signed = client.post("/login", data={"username": "clerk1", "password": "a-long-password",
                                                 "csrf": csrf_of(form.text)})
            assert signed.status_code == 303
            calendar = client.get("/calendar")
            assert calendar.status_code == 200 and 'data-template="households"' in calendar.text
            assert "低收入农户登记表" in calendar.text or "households" in calendar.text
            source = households_with_errors(tmp_path / "330803_households_2014.csv")
            checked = client.post("/upload", data={"csrf": csrf_of(client.get("/upload").text)},
                                  files={"file": (source.name, source.read_bytes(), "text/csv")})
            assert checked.status_code == 200
            assert 'id="findings"' in checked.text and "劳动力人数不能大于家庭人口" in checked.text
    finally:
        server.terminate()
        server.wait(30)


def test_check_submit_and_the_calendar(portal, tmp_path):
    cfg, passwords = portal
    client = client_for(cfg)
    assert login(client, "clerk1", passwords["clerk1"]).status_code == 303
    bad = households_with_errors(tmp_path / "330803_households_2014.xlsx")
    checked = upload(client, bad)
    assert checked.status_code == 200
    for shown in ("households", "2014", ">10<", "劳动力人数不能大于家庭人口", "认定年份不能晚于年度", "退回该行"):
        assert shown in checked.text
    first = _upload_id(checked)
    page = client.post(f"/uploads/{first}/withdraw", data={"csrf": csrf_of(checked.text)})
    assert page.status_code == 303
    assert not any((cfg.data_dir / "portal" / "uploads").iterdir()), "a withdrawn file is deleted"

    good = households_with_errors(tmp_path / "good" / "330803_households_2014.xlsx", bad=False)
    checked = upload(client, good)
    assert 'id="no-findings"' in checked.text
    second = _upload_id(checked)
    submitted = client.post(f"/uploads/{second}/submit", data={"csrf": csrf_of(checked.text)})
    assert submitted.status_code == 200 and "已上报" in submitted.text
    assert (cfg.landing_dir / good.name).read_bytes() == good.read_bytes()
    calendar = client.get("/calendar").text
    assert re.search(r'data-template="households" data-year="2014" data-state="submitted"', calendar)

    ingest(cfg)   # the night
    calendar = client.get("/calendar").text
    assert re.search(r'data-template="households" data-year="2014" data-state="accepted"', calendar)
    with psycopg.connect(cfg.warehouse_url()) as conn:
        loaded = conn.execute("select status from ops.submissions where file_name = %s", (good.name,)).fetchone()[0]
        actions = conn.execute("select username, action, outcome from ops.portal_actions").fetchall()
    assert loaded == "loaded"
    assert ("clerk1", "submit", "submitted") in actions and ("clerk1", "withdraw", "checked") in actions
    assert not any("password" in str(a) for a in actions)


def test_warnings_need_an_explanation_to_force(portal, tmp_path):
    cfg, passwords = portal
    client = client_for(cfg)
    login(client, "clerk1", passwords["clerk1"])
    checked = upload(client, relocations_with_warning(tmp_path / "330803_relocations_2014.csv"))
    assert "提示 warn" in checked.text and 'name="explanation"' in checked.text
    upload_id = _upload_id(checked)
    refused = client.post(f"/uploads/{upload_id}/submit", data={"csrf": csrf_of(checked.text)})
    assert refused.status_code == 409 and "上报说明" in refused.text
    forced = client.post(f"/uploads/{upload_id}/submit", data={
        "csrf": csrf_of(checked.text), "explanation": "县政府批准的补助", "force": "1"})
    assert forced.status_code == 200 and "提示（已说明）" in forced.text
    assert (cfg.landing_dir / "330803_relocations_2014.上报说明.txt").read_text(encoding="utf-8") == "县政府批准的补助"


def test_a_clerk_never_reaches_another_county(portal, tmp_path):
    cfg, passwords = portal
    one, two = client_for(cfg), client_for(cfg)
    login(one, "clerk1", passwords["clerk1"])
    login(two, "clerk2", passwords["clerk2"])
    checked = upload(one, households_with_errors(tmp_path / "330803_households_2014.csv"))
    upload_id = _upload_id(checked)
    kept = upload(one, households_with_errors(tmp_path / "k" / "330803_households_2014.csv", bad=False))
    one.post(f"/uploads/{_upload_id(kept)}/submit", data={"csrf": csrf_of(kept.text)})
    ingest(cfg)
    with psycopg.connect(cfg.warehouse_url()) as conn:
        submission_id = conn.execute("select max(id) from ops.submissions").fetchone()[0]
    assert one.get(f"/submissions/{submission_id}").status_code == 200
    assert one.get(f"/submissions/{submission_id}/feedback.csv").status_code == 200
    token = csrf_of(two.get("/upload").text)
    tried = [("get", "/uploads/{upload_id}"), ("post", "/uploads/{upload_id}/submit"),
             ("post", "/uploads/{upload_id}/withdraw"), ("get", "/submissions/{submission_id}"),
             ("get", "/submissions/{submission_id}/feedback.csv"),
             ("get", "/calendar?county=330803"), ("get", "/figures?county=330803"),
             ("get", "/board"), ("get", "/board/chase.csv"), ("post", "/board/remind")]
    # every route that names an object or a county, or is the province's, is in the list above
    guarded = {(m.lower(), r.path) for r in one.app.routes for m in getattr(r, "methods", ())
               if "{" in r.path or r.path.startswith(("/board", "/calendar", "/figures"))}
    assert guarded <= {(m, u.split("?")[0]) for m, u in tried}
    tried = [(m, u.format(upload_id=upload_id, submission_id=submission_id)) for m, u in tried]
    for method, url in tried:
        response = getattr(two, method)(url, **({"data": {"csrf": token, "county": "330803"}}
                                                 if method == "post" else {}))
        assert response.status_code in (403, 404), (url, response.status_code)
    assert "330803_households" not in two.get("/calendar").text
    # the other county's file offered by a clerk: refused, not kept
    other = upload(two, households_with_errors(tmp_path / "o" / "330803_households_2014.csv"))
    assert other.status_code == 403


def test_uploads_refused_with_a_clear_message(portal, tmp_path, monkeypatch):
    cfg, passwords = portal
    client = client_for(cfg)
    login(client, "clerk1", passwords["clerk1"])
    source = households_with_errors(tmp_path / "330803_households_2014.csv")
    for name in ("../../etc/330803_households_2014.csv", "..\\330803_households_2014.csv",
                 ".330803_households_2014.csv", "330803_households_2014.exe"):
        refused = upload(client, source, name=name)
        assert refused.status_code == 400, name
        assert "文件名" in refused.text or "只接受" in refused.text
    from lowincome.portal import checking

    monkeypatch.setattr(checking, "MAX_BYTES", 1024)
    big = upload(client, source)
    assert big.status_code == 413 and "MB" in big.text
    monkeypatch.undo()
    bomb = tmp_path / "330803_households_2014.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (300 * 1024 * 1024))
    refused = upload(client, bomb)
    assert refused.status_code == 400 and "解压后的大小异常" in refused.text
    assert not any((cfg.data_dir / "portal" / "uploads").iterdir()), "nothing refused is kept"
    # every form checks its CSRF token; a missing one is refused
    assert client.post("/upload", files={"file": ("a.csv", b"x", "text/csv")}).status_code == 403


def test_logins_are_throttled(portal):
    cfg, passwords = portal
    client = client_for(cfg)
    for _ in range(5):
        assert login(client, "clerk1", "wrong password").status_code == 401
    assert login(client, "clerk1", passwords["clerk1"]).status_code == 429
    fresh = client_for(cfg)
    assert fresh.get("/calendar").status_code == 303, "not signed in: to the login form"


def test_the_province_board(portal, tmp_path):
    cfg, passwords = portal
    clerk, prov = client_for(cfg), client_for(cfg)
    login(clerk, "clerk1", passwords["clerk1"])
    checked = upload(clerk, households_with_errors(tmp_path / "330803_households_2014.csv", bad=False))
    clerk.post(f"/uploads/{_upload_id(checked)}/submit", data={"csrf": csrf_of(checked.text)})
    ingest(cfg)
    assert login(prov, "prov", passwords["prov"]).status_code == 303
    board = prov.get("/board")
    assert board.status_code == 200
    states = re.findall(r'<tr data-state="(\w+)">', board.text)
    assert states and states == sorted(states, key=["overdue", "returned", "open", "submitted", "accepted"].index)
    assert "accepted" in states
    chase = prov.get("/board/chase.csv")
    assert chase.status_code == 200 and chase.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(chase.content.decode("utf-8-sig").splitlines()))
    assert lines[0] == ["县代码", "县名", "报表", "年度", "截止日期", "状态"]
    chased = {(code, year) for code, _name, tpl, year, _deadline, _state in lines[1:] if tpl == template("households").zh}
    assert ("330803", "2013") in chased and ("330803", "2014") not in chased and ("331127", "2014") in chased
    only = prov.get("/board?county=331127&template=villages&state=overdue").text
    assert set(re.findall(r'<tr data-state="(\w+)">', only)) == {"overdue"} and 'href="/board?county=330803"' not in only
    page = prov.get("/board?county=331127")
    reminded = prov.post("/board/remind", data={"csrf": csrf_of(page.text), "county": "331127", "note": "请尽快上报"})
    assert reminded.status_code == 303
    with psycopg.connect(cfg.warehouse_url()) as conn:
        assert conn.execute("select county_code, username from ops.portal_reminders").fetchall() == [("331127", "prov")]
    assert prov.get("/calendar?county=330803").status_code == 200




def test_figures_are_read_through_the_countys_row_security(portal):
    """A clerk's figures come from the database as the county's role: row-level security picks the rows,
    not a filter in Python (the mart here is a real table with the publication's own policy)."""
    from lowincome.publish.access import COUNTY_GROUP_ROLE, apply_row_security, county_role

    cfg, passwords = portal
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        for role in (COUNTY_GROUP_ROLE, county_role("330803"), county_role("331127")):
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                try:
                    conn.execute(f'create role "{role}" nologin')
                except psycopg.errors.DuplicateObject:
                    pass   # another session's test made it meanwhile (roles belong to the server)
            if role != COUNTY_GROUP_ROLE:
                conn.execute(f'grant "{COUNTY_GROUP_ROLE}" to "{role}"')
        conn.execute("create table marts.submission_completeness (county_code text, template text, year int, "
                     "files_received int)")
        conn.execute("insert into marts.submission_completeness values ('330803', 'households', 2014, 7), "
                     "('331127', 'households', 2014, 9)")
        assert "submission_completeness" in apply_row_security(conn)
    clerk, prov = client_for(cfg), client_for(cfg)
    login(clerk, "clerk1", passwords["clerk1"])
    shown = clerk.get("/figures").text
    assert "<td>330803</td>" in shown and "331127" not in shown
    assert clerk.get("/figures?county=331127").status_code == 403
    login(prov, "prov", passwords["prov"])
    other = prov.get("/figures?county=331127").text
    assert "<td>331127</td>" in other and "<td>330803</td>" not in other


def test_sessions_and_forms_are_bound_to_their_signer(portal, tmp_path):
    """A forged or altered cookie is no session; a form posted with another session's token is refused."""
    cfg, passwords = portal
    one, two = client_for(cfg), client_for(cfg)
    login(one, "clerk1", passwords["clerk1"])
    login(two, "clerk1", passwords["clerk1"])
    checked = upload(one, households_with_errors(tmp_path / "330803_households_2014.csv"))
    upload_id = _upload_id(checked)
    foreign = csrf_of(two.get("/upload").text)
    assert one.post(f"/uploads/{upload_id}/withdraw", data={"csrf": foreign}).status_code == 403
    cookie = one.cookies.get("lowincome_portal")
    forged = client_for(cfg)
    forged.cookies.set("lowincome_portal", cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
    assert forged.get("/calendar").status_code == 303
    assert forged.get(f"/uploads/{upload_id}").status_code == 303


def test_undecided_checks_expire(portal, tmp_path):
    from lowincome.portal.checking import expire, uploads_dir

    cfg, passwords = portal
    client = client_for(cfg)
    login(client, "clerk1", passwords["clerk1"])
    upload_id = _upload_id(upload(client, households_with_errors(tmp_path / "330803_households_2014.csv")))
    assert any(uploads_dir(cfg).iterdir())
    with psycopg.connect(cfg.warehouse_url(), autocommit=True) as conn:
        conn.execute("update ops.portal_uploads set checked_at = now() - interval '4 days' where id = %s",
                     (upload_id,))
        assert expire(cfg, conn) == 1
        assert conn.execute("select state from ops.portal_uploads where id = %s", (upload_id,)).fetchone()[0] \
            == "withdrawn"
    assert not any(uploads_dir(cfg).iterdir()), "the staged copy is deleted"


def test_a_password_typed_as_a_name_is_never_stored(portal):
    cfg, _passwords = portal
    client = client_for(cfg)
    login(client, "Secret-Typed-In-Name", "whatever")
    with psycopg.connect(cfg.warehouse_url()) as conn:
        stored = conn.execute("select string_agg(t::text, ' ') from (select * from ops.portal_actions union all "
                              "select null, failed_at, username, client, null, null, null "
                              "from ops.portal_login_failures) t").fetchone()[0]
    assert "Secret-Typed-In-Name" not in stored and "testclient" not in stored
    assert "(unknown)" in stored


@pytest.mark.parametrize(("args", "stdin", "said"), [
    (["--county", "999999", "clerk9"], "a-long-password\n", "not a county in scope"),
    (["--county", "330803", "clerk9"], "short\n", "at least 10 characters"),
    (["--county", "330803", "bad name"], "a-long-password\n", "user name"),
    (["--county", "330803", "clerk9"], "", "no password on stdin"),
])
def test_portal_user_add_refuses_in_one_line(empty_warehouse, args, stdin, said):
    done = subprocess.run([LOWINCOME, "portal-user", "add", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2 and said in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
