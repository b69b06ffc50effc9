"""``lowincome portal`` (the web application) and ``lowincome portal-user add`` (an account)."""

from __future__ import annotations

import argparse
import sys

from lowincome.config import settings
from lowincome.errors import UserError


def cmd_portal(args: argparse.Namespace) -> int:
    import uvicorn

    from lowincome.portal.app import create_app
    from lowincome.portal.db import ensure_tables

    cfg = settings()
    ensure_tables(cfg)
    print(f"county submission portal at http://{args.host}:{args.port}/login (Ctrl-C stops it)", flush=True)
    # one process, uploads checked in its worker threads; no proxy headers trusted (clients as they connect)
    uvicorn.run(create_app(cfg), host=args.host, port=args.port, log_level="warning", access_log=False,
                proxy_headers=False, server_header=False)
    return 0


def cmd_portal_user(args: argparse.Namespace) -> int:
    from lowincome.portal.accounts import add_user
    from lowincome.portal.db import audit, connect, ensure_tables

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UserError("no password on stdin (echo the password | lowincome portal-user add ...)")
    cfg = settings()
    ensure_tables(cfg)
    with connect(cfg) as conn:
        add_user(conn, args.name, password, county=args.county, province=args.province)
        audit(conn, None, "add user", args.county or "province", "ok", username=args.name)
    print(f"portal user {args.name} added ({'province' if args.province else 'county ' + args.county})")
    return 0


def add_commands(sub) -> None:
    portal = sub.add_parser("portal", help="the county submission portal (web application)")
    portal.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    portal.add_argument("--port", type=int, default=8090, help="the port (default 8090)")
    portal.set_defaults(func=cmd_portal)

    user = sub.add_parser("portal-user", help="portal accounts: add a county clerk or provincial staff")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account; the password is read from stdin")
    who = add.add_mutually_exclusive_group(required=True)
    who.add_argument("--county", help="the clerk's county code (e.g. 330803)")
    who.add_argument("--province", action="store_true", help="provincial staff (every county, the board)")
    add.add_argument("name", help="the login name")
    add.set_defaults(func=cmd_portal_user)
