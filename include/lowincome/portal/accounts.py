"""Portal accounts: a clerk belongs to one county, provincial staff read every county.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile); only the hash
is stored. Logins are throttled per user name and per client: :data:`MAX_FAILURES` failures within
:data:`WINDOW` lock further attempts until the window has passed (failed attempts live in
``ops.portal_login_failures`` as digests of the name and the client, so every portal process sees them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lowincome.errors import UserError
from lowincome.ingest.recognise import counties

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 10
MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
_HASHER = PasswordHasher()
# verified when the user does not exist, so that an unknown name costs the same time as a wrong password
_DUMMY = _HASHER.hash("not a password of anyone")


def add_user(conn: psycopg.Connection, username: str, password: str, *, county: str | None,
             province: bool) -> int:
    if not USERNAME.match(username):
        raise UserError(f"a user name is 2-64 letters, digits, '_', '.' or '-', not {username!r}")
    if province == (county is not None):
        raise UserError("give either --county CODE or --province")
    if county is not None and county not in counties():
        raise UserError(f"{county} is not a county in scope (include/config/counties.csv)")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    try:
        return conn.execute(
            "insert into ops.portal_users (username, password_hash, county_code, is_province) "
            "values (%s, %s, %s, %s) returning id",
            (username, _HASHER.hash(password), county, province)).fetchone()[0]
    except psycopg.errors.UniqueViolation:
        raise UserError(f"portal user {username} exists already") from None


def _digest(text: str) -> str:
    """What a failed login keeps of the name typed and of the client: a digest (a password typed into the
    name field, or an address, is never stored as such)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def throttled(conn: psycopg.Connection, username: str, client: str) -> bool:
    since = dt.datetime.now(dt.UTC) - WINDOW
    by_name, by_client = conn.execute(
        "select count(*) filter (where username = %s), count(*) filter (where client = %s) "
        "from ops.portal_login_failures where failed_at > %s", (_digest(username), _digest(client), since)).fetchone()
    return by_name >= MAX_FAILURES or by_client >= MAX_FAILURES * 4


def authenticate(conn: psycopg.Connection, username: str, password: str, client: str) -> dict | None:
    """The user's row when the password is right, else None (the failure is recorded)."""
    row = conn.execute("select id, username, password_hash, county_code, is_province from ops.portal_users "
                       "where username = %s and not disabled", (username,)).fetchone()
    try:
        _HASHER.verify(row[2] if row else _DUMMY, password)
        ok = row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        conn.execute("delete from ops.portal_login_failures where failed_at < now() - %s", (WINDOW,))
        conn.execute("insert into ops.portal_login_failures (username, client) values (%s, %s)",
                     (_digest(username), _digest(client)))
        return None
    conn.execute("delete from ops.portal_login_failures where username = %s", (_digest(username),))
    return {"id": row[0], "username": row[1], "county_code": row[3], "is_province": row[4]}


def user_by_id(conn: psycopg.Connection, user_id: int) -> dict | None:
    row = conn.execute("select id, username, county_code, is_province from ops.portal_users "
                       "where id = %s and not disabled", (user_id,)).fetchone()
    return dict(zip(("id", "username", "county_code", "is_province"), row, strict=True)) if row else None


def known(conn: psycopg.Connection, username: str) -> bool:
    return conn.execute("select 1 from ops.portal_users where username = %s", (username,)).fetchone() is not None
