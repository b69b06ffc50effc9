"""Where things live and how to reach the warehouse: one place, read from the environment.

Everything the platform writes goes under two folders:

* the *state* folder (``LOWINCOME_STATE_DIR``, default ``<project>/.lowincome``): the embedded
  PostgreSQL data folder, ``AIRFLOW_HOME`` and locally generated secrets. Git-ignored.
* the *data* folder (``LOWINCOME_DATA_DIR``, default ``<project>/data``): landing, archive,
  quarantine, feedback, docs and reports. Git-ignored.

``LOWINCOME_WAREHOUSE_URL`` switches every component to an existing PostgreSQL server.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

WAREHOUSE_CONN_ID = "lowincome_warehouse"
HMAC_CONN_ID = "lowincome_hmac"
DEFAULT_EMBEDDED_PORT = 55432
WAREHOUSE_DB = "lowincome"
AIRFLOW_DB = "airflow"


def _find_project_root() -> Path:
    explicit = os.environ.get("LOWINCOME_HOME")
    if explicit:
        return Path(explicit).resolve()
    # The package is installed editable from <project>/include/lowincome.
    here = Path(__file__).resolve().parents[2]
    if (here / "dags").is_dir() and (here / "dbt_project").is_dir():
        return here
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Settings:
    project_root: Path
    state_dir: Path
    data_dir: Path
    external_url: str | None

    @classmethod
    def from_env(cls) -> Settings:
        root = _find_project_root()
        state = Path(os.environ.get("LOWINCOME_STATE_DIR", root / ".lowincome")).resolve()
        data = Path(os.environ.get("LOWINCOME_DATA_DIR", root / "data")).resolve()
        url = os.environ.get("LOWINCOME_WAREHOUSE_URL") or None
        return cls(project_root=root, state_dir=state, data_dir=data, external_url=url)

    # --- folders -------------------------------------------------------------------------------
    @property
    def dags_dir(self) -> Path:
        return self.project_root / "dags"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    @property
    def config_dir(self) -> Path:
        return self.project_root / "include" / "config"

    @property
    def pgdata_dir(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def airflow_home(self) -> Path:
        explicit = os.environ.get("LOWINCOME_AIRFLOW_HOME")
        return Path(explicit).resolve() if explicit else self.state_dir / "airflow"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def feedback_dir(self) -> Path:
        return self.data_dir / "feedback"

    @property
    def docs_dir(self) -> Path:
        return self.data_dir / "docs"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    # --- warehouse -----------------------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        return self.external_url is None

    @cached_property
    def local_secrets(self) -> dict[str, str]:
        """Secrets generated once per machine for the embedded default (never committed)."""
        return read_or_create_secrets(self.state_dir / "secrets.env")

    @property
    def embedded_port(self) -> int:
        explicit = os.environ.get("LOWINCOME_PG_PORT")
        if explicit:
            return int(explicit)
        port_file = self.state_dir / "pg_port"
        if port_file.exists():
            return int(port_file.read_text().strip())
        return DEFAULT_EMBEDDED_PORT

    def warehouse_url(self) -> str:
        """SQLAlchemy-neutral ``postgresql://`` URL of the warehouse database."""
        if self.external_url:
            return normalise_url(self.external_url)
        password = quote(self.local_secrets["LOWINCOME_PG_PASSWORD"], safe="")
        return f"postgresql://lowincome:{password}@127.0.0.1:{self.embedded_port}/{WAREHOUSE_DB}"

    def airflow_metadata_url(self) -> str:
        """Airflow's metadata lives in its own database on the same server."""
        return with_database(self.warehouse_url(), os.environ.get("LOWINCOME_AIRFLOW_DB", AIRFLOW_DB))

    def hmac_key(self) -> str:
        key = os.environ.get("LOWINCOME_HMAC_KEY")
        if key:
            return key
        return self.local_secrets["LOWINCOME_HMAC_KEY"]


def normalise_url(url: str) -> str:
    """Accept ``postgres://``, ``postgresql+psycopg://`` … and return plain ``postgresql://``."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    if scheme != "postgresql":
        raise ValueError(f"LOWINCOME_WAREHOUSE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def sqlalchemy_url(url: str) -> str:
    """The same URL with the psycopg 3 driver named, for SQLAlchemy and Airflow."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, parts.query, parts.fragment))


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def read_or_create_secrets(path: Path) -> dict[str, str]:
    wanted = ("LOWINCOME_PG_PASSWORD", "LOWINCOME_HMAC_KEY", "LOWINCOME_ROLE_PASSWORD")
    values: dict[str, str] = {}
    if path.exists():
        # written by an older version, the file and its folder may be readable by others
        private_state_folder(path.parent)
        private_file(path)
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                name, _, value = line.partition("=")
                values[name.strip()] = value.strip()
    if all(name in values for name in wanted):
        return values
    for name in wanted:
        values.setdefault(name, secrets.token_urlsafe(24))
    private_state_folder(path.parent)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    # created 0600: never readable by others, not even between its creation and a chmod
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(fd, "w") as handle:
        handle.write("# generated locally by lowincome; never commit\n"
                     + "".join(f"{k}={v}\n" for k, v in values.items()))
    tmp.replace(path)
    return values


def private_state_folder(folder: Path) -> None:
    """The state folder (secrets, Airflow home, server data): created 0700; an existing one loses the read
    and write bits of others. Their search bit stays: run as root, the embedded server's own user must
    pass through it (:mod:`lowincome.embedded`), and it lists nothing."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = folder.stat().st_mode & 0o777
    if mode & 0o066:
        folder.chmod(mode & ~0o066)


def private_file(path: Path) -> None:
    """``path`` readable and writable by its owner only (0600): an empty file created so when missing, an
    existing one made so. For files another program fills (it opens them without changing their mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def settings() -> Settings:
    return Settings.from_env()
