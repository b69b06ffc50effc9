"""The portal's web application (FastAPI, Jinja2 templates with autoescape, no outside asset, no script).

Sessions are signed cookies (itsdangerous, key ``LOWINCOME_PORTAL_SECRET`` or one generated into the
state folder), HttpOnly and SameSite=Strict; every form carries the session's CSRF token, checked on every
POST. A clerk sees only the county of the account: any id of another county's upload or submission is
404, another county's calendar or figures 403. The marts are read through the database as that county's
role (``set role lowincome_county_<code>``), so row-level security decides the rows.
"""

from __future__ import annotations

import csv
import hmac
import io
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from psycopg import sql
from psycopg.types.json import Json

from lowincome.config import Settings
from lowincome.ingest.account import HEADER, STATUS_ZH, feedback_rows, neutralise
from lowincome.ingest.files import sha256_of
from lowincome.ingest.recognise import PROVINCE_CODE, counties, sender_county
from lowincome.portal import accounts, checking
from lowincome.portal import calendar as cal
from lowincome.portal.db import audit, connect
from lowincome.publish.access import county_role
from lowincome.templates import templates

COOKIE = "lowincome_portal"
SESSION_SECONDS = 8 * 3600
HERE = Path(__file__).parent
MARTS_SHOWN = ("target_attainment", "income_doubling", "submission_completeness")


def _secret(cfg: Settings) -> str:
    explicit = os.environ.get("LOWINCOME_PORTAL_SECRET")
    if explicit:
        return explicit
    path = cfg.state_dir / "portal_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(fd, "w") as out:
                out.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    return path.read_text().strip()


def create_app(cfg: Settings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    signer = URLSafeTimedSerializer(_secret(cfg), salt="lowincome-portal-session")
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    secure = os.environ.get("LOWINCOME_PORTAL_SECURE_COOKIE", "") == "1"

    # --- sessions, CSRF, pages -------------------------------------------------------------------
    def session_of(request: Request) -> dict:
        try:
            data = signer.loads(request.cookies.get(COOKIE, ""), max_age=SESSION_SECONDS)
            return data if isinstance(data, dict) else {}
        except BadSignature:
            return {}

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = getattr(request.state, "session", None) or session_of(request)
        if "csrf" not in session:
            session = {**session, "csrf": secrets.token_urlsafe(24)}
        html = env.get_template(name).render(csrf=session["csrf"], user=getattr(request.state, "user", None),
                                             **context)
        response = HTMLResponse(html, status_code=status)
        remember(response, session)
        return response

    def remember(response: Response, session: dict) -> None:
        response.set_cookie(COOKIE, signer.dumps(session), max_age=SESSION_SECONDS, httponly=True,
                            samesite="strict", secure=secure, path="/")

    def check_csrf(request: Request, token: str) -> dict:
        session = session_of(request)
        if not session.get("csrf") or not hmac.compare_digest(session["csrf"], token or ""):
            raise HTTPException(403, "表单已过期，请刷新页面后重试 / the form expired: reload the page")
        return session

    def signed_in(request: Request) -> dict:
        session = session_of(request)
        if "uid" not in session:
            raise HTTPException(401)
        with connect(cfg) as conn:
            user = accounts.user_by_id(conn, session["uid"])
        if user is None:
            raise HTTPException(401)
        request.state.session, request.state.user = session, user
        return user

    def province_only(user: dict) -> None:
        if not user["is_province"]:
            raise HTTPException(403, "只有省级用户可以查看 / for provincial staff only")

    def county_of(user: dict, asked: str | None) -> str:
        """The county a request may read: a clerk's own (another: 403), any for the province."""
        if user["is_province"]:
            code = asked or ""
            if code not in counties() and code != PROVINCE_CODE:
                raise HTTPException(404, "没有这个县 / no such county")
            return code
        if asked not in (None, "", user["county_code"]):
            raise HTTPException(403, "只能查看本县的数据 / your own county only")
        return user["county_code"]

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                                       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException):
        if err.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        return page(request, "error.html", status=err.status_code, status_code=err.status_code,
                    message=err.detail if isinstance(err.detail, str) else "")

    @app.get("/portal.css")
    def css() -> Response:
        return Response((HERE / "templates" / "portal.css").read_bytes(), media_type="text/css")

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    # --- login -----------------------------------------------------------------------------------
    @app.get("/login")
    def login_form(request: Request):
        return page(request, "login.html", message=None)

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""), csrf: str = Form("")):
        check_csrf(request, csrf)
        client = request.client.host if request.client else "?"
        with connect(cfg) as conn:
            # the audit names an account, never what was typed for one (it may be a password)
            shown = username if accounts.known(conn, username) else "(unknown)"
            if accounts.throttled(conn, username, client):
                audit(conn, None, "login", None, "throttled", username=shown)
                return page(request, "login.html", status=429,
                            message="登录失败次数过多，请15分钟后再试 / too many failed logins: try again in 15 minutes")
            user = accounts.authenticate(conn, username, password, client)
            audit(conn, user, "login", None, "ok" if user else "failed", username=shown)
        if user is None:
            return page(request, "login.html", status=401, message="用户名或密码错误 / wrong user name or password")
        response = RedirectResponse("/board" if user["is_province"] else "/calendar", status_code=303)
        remember(response, {"uid": user["id"], "csrf": secrets.token_urlsafe(24)})   # a new session at login
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        check_csrf(request, csrf)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/")
    def home(request: Request):
        user = signed_in(request)
        return RedirectResponse("/board" if user["is_province"] else "/calendar", status_code=303)

    # --- upload and 审核 --------------------------------------------------------------------------
    @app.get("/upload")
    def upload_form(request: Request):
        user = signed_in(request)
        if user["is_province"]:
            raise HTTPException(403, "上报由县级用户进行 / uploads are made by county clerks")
        return page(request, "upload.html", message=None, max_mb=checking.MAX_BYTES // 1024 // 1024)

    @app.post("/upload")
    def upload(request: Request, file: Annotated[UploadFile, File()], csrf: str = Form("")):
        user = signed_in(request)
        check_csrf(request, csrf)
        if user["is_province"]:
            raise HTTPException(403, "上报由县级用户进行 / uploads are made by county clerks")
        with connect(cfg) as conn:
            try:
                name = checking.upload_name(file.filename or "")
                token, path = checking.stage(cfg, name, iter(lambda: file.file.read(1 << 20), b""))
            except checking.Refused as err:
                audit(conn, user, "upload", None, "refused")
                return page(request, "upload.html", status=err.status, message=str(err),
                            max_mb=checking.MAX_BYTES // 1024 // 1024)
            checking.expire(cfg, conn)
            try:
                result = checking.check(cfg, path)
            except BaseException:
                checking.discard(cfg, token)   # nothing kept of a check that failed
                raise
            if not checking.belongs_to(result, user["county_code"]):
                checking.discard(cfg, token)
                audit(conn, user, "upload", None, "other county")
                return page(request, "upload.html", status=403, max_mb=checking.MAX_BYTES // 1024 // 1024,
                            message="文件不属于本县（文件名或县代码是其他县），未保存 / the file is not of your county")
            upload_id = _record(conn, user, token, path, result)
            audit(conn, user, "check", f"upload {upload_id}", result["verdict"])
            return page(request, "check.html", upload=_upload(conn, upload_id, user), result=result)

    def _record(conn, user, token, path, result) -> int:
        sha, size = sha256_of(path)
        return conn.execute(
            """insert into ops.portal_uploads (token, user_id, county_code, file_name, sha256, size_bytes, template,
                   year, rows_read, verdict, warnings, summary, findings)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) returning id""",
            (token, user["id"], user["county_code"], path.name, sha, size, result["template"], result["year"],
             result["rows_read"], result["verdict"], result["warnings"], result["summary"],
             Json(result["findings"]))).fetchone()[0]

    def _upload(conn, upload_id: int, user: dict) -> dict:
        row = conn.execute(
            """select id, token, county_code, file_name, template, year, rows_read, verdict, warnings, summary,
                      findings, explanation, state, checked_at, decided_at
               from ops.portal_uploads where id = %s""", (upload_id,)).fetchone()
        keys = ("id", "token", "county_code", "file_name", "template", "year", "rows_read", "verdict", "warnings",
                "summary", "findings", "explanation", "state", "checked_at", "decided_at")
        found = dict(zip(keys, row, strict=True)) if row else None
        if found is None or (not user["is_province"] and found["county_code"] != user["county_code"]):
            raise HTTPException(404, "没有这个上报文件 / no such upload")
        return found

    def _result_of(upload: dict) -> dict:
        return {"template": upload["template"], "year": upload["year"], "rows_read": upload["rows_read"],
                "verdict": upload["verdict"], "summary": upload["summary"], "findings": upload["findings"],
                "warnings": upload["warnings"], "file_name": upload["file_name"],
                "status_zh": STATUS_ZH.get(upload["verdict"], upload["verdict"])}

    @app.get("/uploads/{upload_id}")
    def upload_page(request: Request, upload_id: int):
        user = signed_in(request)
        with connect(cfg) as conn:
            upload = _upload(conn, upload_id, user)
        return page(request, "check.html", upload=upload, result=_result_of(upload))

    @app.post("/uploads/{upload_id}/withdraw")
    def withdraw(request: Request, upload_id: int, csrf: str = Form("")):
        user = signed_in(request)
        check_csrf(request, csrf)
        with connect(cfg) as conn:
            upload = _upload(conn, upload_id, user)
            if upload["state"] == "checked":
                checking.discard(cfg, upload["token"])
                conn.execute("update ops.portal_uploads set state = 'withdrawn', decided_at = now() where id = %s",
                             (upload_id,))
            audit(conn, user, "withdraw", f"upload {upload_id}", upload["state"])
        return RedirectResponse("/calendar", status_code=303)

    @app.post("/uploads/{upload_id}/submit")
    def submit(request: Request, upload_id: int, csrf: str = Form(""), explanation: str = Form(""),
               force: str = Form("")):
        user = signed_in(request)
        check_csrf(request, csrf)
        if user["is_province"]:
            raise HTTPException(403, "上报由县级用户进行 / uploads are made by county clerks")
        explanation = explanation.strip()[:10_000]
        with connect(cfg) as conn:
            upload = _upload(conn, upload_id, user)
            message = None
            if upload["state"] != "checked":
                message = "该文件已经处理过 / this file was already submitted or withdrawn"
            elif upload["verdict"] != "loaded":
                message = "该文件会被整个退回或已接收过，不能上报；请改正后重新上传 / this file cannot be submitted"
            elif upload["warnings"] and not (force and explanation):
                message = "文件有提示类问题：请填写上报说明并勾选强制上报 / warnings: write a 上报说明 and force"
            if message is None:
                path = checking.staged_path(cfg, upload["token"], upload["file_name"])
                result = checking.check(cfg, path, explanation=explanation or None)   # what the night will say
                try:
                    checking.submit(cfg, path, explanation or None)
                except checking.Refused as err:
                    message = str(err)
                else:
                    checking.discard(cfg, upload["token"])
                    conn.execute(
                        """update ops.portal_uploads set state = 'submitted', decided_at = now(), explanation = %s,
                               summary = %s, findings = %s::jsonb, warnings = %s where id = %s""",
                        (explanation or None, result["summary"], Json(result["findings"]),
                         result["warnings"], upload_id))
            audit(conn, user, "submit", f"upload {upload_id}", "refused" if message else
                  ("forced" if explanation else "submitted"))
            upload = _upload(conn, upload_id, user)
        return page(request, "check.html", status=409 if message else 200, upload=upload,
                    result=_result_of(upload), message=message)

    # --- the ledger: submissions and their feedback -------------------------------------------------
    def _submission(conn, submission_id: int, user: dict) -> dict:
        row = conn.execute("select id, file_name, county_code, template, year, status, received_at, reason "
                           "from ops.submissions where id = %s", (submission_id,)).fetchone()
        keys = ("id", "file_name", "county_code", "template", "year", "status", "received_at", "reason")
        found = dict(zip(keys, row, strict=True)) if row else None
        # a clerk reads what the county sent (the county whose feedback folder the answer goes to)
        if found is None or not user["is_province"] and (
                sender_county(found["file_name"], found["county_code"]) != user["county_code"]):
            raise HTTPException(404, "没有这个报送记录 / no such submission")
        return found

    @app.get("/submissions/{submission_id}")
    def submission_page(request: Request, submission_id: int):
        user = signed_in(request)
        with connect(cfg) as conn:
            found = _submission(conn, submission_id, user)
            lines = list(feedback_rows(conn, submission_id))
            audit(conn, user, "read submission", f"submission {submission_id}", "ok")
        return page(request, "submission.html", submission=found, lines=lines)

    @app.get("/submissions/{submission_id}/feedback.csv")
    def feedback_csv(request: Request, submission_id: int):
        user = signed_in(request)
        with connect(cfg) as conn:
            _submission(conn, submission_id, user)
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(HEADER)
            writer.writerows([neutralise(v) for v in line] for line in feedback_rows(conn, submission_id))
            audit(conn, user, "download feedback", f"submission {submission_id}", "ok")
        return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="feedback_{submission_id}.csv"'})

    # --- the calendar ----------------------------------------------------------------------------
    @app.get("/calendar")
    def calendar_page(request: Request, county: str | None = None):
        user = signed_in(request)
        if user["is_province"] and not county:
            return RedirectResponse("/board", status_code=303)
        code = county_of(user, county)
        with connect(cfg) as conn:
            rows = cal.expected(cfg, conn, [code])
            uploads = conn.execute(
                "select id, file_name, template, year, verdict, state, checked_at from ops.portal_uploads "
                "where county_code = %s order by id desc limit 50", (code,)).fetchall()
            audit(conn, user, "calendar", code, "ok")
        return page(request, "calendar.html", rows=rows, county=code,
                    county_name=counties().get(code, "浙江省"), uploads=uploads, today=cal.today())

    # --- the province's board ---------------------------------------------------------------------
    def board_rows(conn, county: str | None, template: str | None, state: str | None) -> list[dict]:
        codes = [county] if county else [*counties(), PROVINCE_CODE]
        rows = [r for r in cal.expected(cfg, conn, codes)
                if (not template or r["template"] == template) and (not state or r["state"] == state)]
        return sorted(rows, key=lambda r: (cal.ORDER[r["state"]], r["deadline"], r["county_code"], r["template"]))

    @app.get("/board")
    def board(request: Request, county: str = "", template: str = "", state: str = ""):
        user = signed_in(request)
        province_only(user)
        with connect(cfg) as conn:
            rows = board_rows(conn, county or None, template or None, state or None)
            reminders = conn.execute("select at, county_code, username, what from ops.portal_reminders "
                                     "order by at desc limit 30").fetchall()
            audit(conn, user, "board", None, "ok")
        return page(request, "board.html", rows=rows, reminders=reminders, counties=counties(),
                    template_names={t.name: t.zh for t in templates().values()},
                    states=cal.STATES, filters={"county": county, "template": template, "state": state})

    @app.get("/board/chase.csv")
    def chase_csv(request: Request):
        user = signed_in(request)
        province_only(user)
        with connect(cfg) as conn:
            rows = [r for r in board_rows(conn, None, None, None) if r["state"] in ("overdue", "returned")]
            audit(conn, user, "download chase list", None, "ok")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["县代码", "县名", "报表", "年度", "截止日期", "状态"])
        writer.writerows([r["county_code"], r["county_name"], r["template_zh"], r["year"], r["deadline"],
                          r["state_zh"]] for r in rows)
        return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="chase.csv"'})

    @app.post("/board/remind")
    def remind(request: Request, county: str = Form(""), note: str = Form(""), csrf: str = Form("")):
        user = signed_in(request)
        check_csrf(request, csrf)
        province_only(user)
        code = county_of(user, county)
        with connect(cfg) as conn:
            late = [r for r in cal.expected(cfg, conn, [code]) if r["state"] in ("overdue", "returned")]
            what = ", ".join(f"{r['template']}:{r['year']}" for r in late) or "-"
            conn.execute("insert into ops.portal_reminders (county_code, username, what, note) values (%s, %s, %s, %s)",
                         (code, user["username"], what, note.strip()[:500] or None))
            audit(conn, user, "remind", code, "ok")
        return RedirectResponse(f"/board?county={code}", status_code=303)

    # --- the marts, through the county's role --------------------------------------------------------
    @app.get("/figures")
    def figures(request: Request, county: str | None = None):
        user = signed_in(request)
        code = county_of(user, county)
        tables = {}
        with connect(cfg) as conn:
            with conn.transaction():
                # row-level security decides: the county's role, for this transaction only
                try:
                    with conn.transaction():
                        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(county_role(code))))
                except psycopg.errors.UndefinedObject:
                    raise HTTPException(404, "尚未发布本县的数据 / nothing published for this county yet") from None
                for mart in MARTS_SHOWN:
                    try:
                        with conn.transaction():
                            cur = conn.execute(sql.SQL("select * from {} limit 500").format(
                                sql.Identifier("marts", mart)))
                            tables[mart] = ([d.name for d in cur.description], cur.fetchall())
                    except psycopg.errors.UndefinedTable:
                        tables[mart] = None
                    except psycopg.errors.InsufficientPrivilege:
                        tables[mart] = None
            audit(conn, user, "figures", code, "ok")
        return page(request, "figures.html", county=code, county_name=counties().get(code, "浙江省"), tables=tables)

    @app.get("/health")
    def health() -> PlainTextResponse:
        with connect(cfg) as conn:
            conn.execute("select 1")
        return PlainTextResponse("ok")

    return app
