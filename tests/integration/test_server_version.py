"""A warehouse server older than PostgreSQL 15 is refused at first contact, in one line, before anything
is created on it; 15 and newer are accepted."""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from lowincome.warehouse import OLDEST_SERVER, require_supported_server, unsupported_server


@pytest.mark.parametrize(("version_num", "found"), [(140011, "14.11"), (130000, "13.0"), (100023, "10.23"),
                                                    (90624, "9.6.24"), (149999, "14.9999")])
def test_an_older_server_is_refused_naming_both_versions(version_num, found):
    problem = unsupported_server(version_num)
    assert f"PostgreSQL {found} (server_version_num {version_num})" in problem
    assert "needs PostgreSQL 15 or newer (server_version_num >= 150000)" in problem
    assert "\n" not in problem


@pytest.mark.parametrize("version_num", [150000, 150020, 160009, 170005, 180001, 190000])
def test_15_and_newer_are_accepted(version_num):
    assert unsupported_server(version_num) is None


def test_the_server_of_this_session_is_supported(conn):
    assert conn.info.server_version >= OLDEST_SERVER
    require_supported_server(conn)


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _serve_as_old_postgres(sock: socket.socket, version: str, stop: threading.Event) -> None:
    """Speak the start of PostgreSQL's protocol as an old server would: accept any login, report
    ``version``, then hang up on the first query (a client that asks anything gets an error)."""
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            client, _ = sock.accept()
        except TimeoutError:
            continue
        with client:
            client.settimeout(5)
            with contextlib.suppress(OSError):
                while True:   # SSL and GSS encryption requests are declined, then the startup message
                    length, code = struct.unpack("!ii", client.recv(8))
                    if code in (80877103, 80877104):
                        client.sendall(b"N")
                        continue
                    client.recv(length - 8)
                    break
                params = [("server_version", version), ("server_encoding", "UTF8"), ("client_encoding", "UTF8"),
                          ("DateStyle", "ISO, MDY"), ("integer_datetimes", "on"), ("standard_conforming_strings", "on")]
                client.sendall(_message(b"R", struct.pack("!i", 0))
                               + b"".join(_message(b"S", f"{k}\0{v}\0".encode()) for k, v in params)
                               + _message(b"K", struct.pack("!ii", 4242, 1))
                               + _message(b"Z", b"I"))
                client.recv(1)  # the first query, or the goodbye: hang up either way


@pytest.fixture
def old_server() -> Iterator[str]:
    """The URL of a fake PostgreSQL 14.11 on a free local port."""
    stop = threading.Event()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        thread = threading.Thread(target=_serve_as_old_postgres, args=(sock, "14.11", stop), daemon=True)
        thread.start()
        try:
            yield f"postgresql://postgres@127.0.0.1:{sock.getsockname()[1]}/lowincome_old?sslmode=disable"
        finally:
            stop.set()
            thread.join(timeout=5)


@pytest.mark.parametrize("command", [["ingest", "{landing}"], ["db", "start"], ["run"]])
def test_every_command_refuses_an_older_server_in_one_line(old_server, tmp_path, command):
    landing = tmp_path / "data" / "landing"   # the configured one: `run` checks it exists before anything else
    landing.mkdir(parents=True)
    argv = [part.format(landing=landing) for part in command]
    env = {**os.environ, "LOWINCOME_WAREHOUSE_URL": old_server, "LOWINCOME_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "lowincome.cli", *argv], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"lowincome: {unsupported_server(140011)}"], result.stderr
