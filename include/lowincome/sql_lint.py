"""``make lint``'s SQL half: sqlfluff (``.sqlfluff``: the dbt templater, postgres) over the dbt project.

The dbt templater compiles each model with dbt, and dbt first lists the relations of every schema the
project builds into, so the lint needs a PostgreSQL that accepts a connection, not the warehouse's data:
it connects to the ``postgres`` database of the warehouse's server (where none of the project's relations
exist, so every model is linted as in a first build). An embedded server that is down is started for the
lint and stopped after (decision 0024).

Usage: ``python -m lowincome.sql_lint [sqlfluff lint arguments]`` (``make lint SQLFLUFF_ARGS=...``).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

PROFILES = Path(".lowincome/sqlfluff/profiles.yml")  # the profiles_dir named in .sqlfluff


def main(argv: list[str]) -> None:
    import sqlparse.engine.grouping
    from sqlfluff.cli.commands import cli

    from lowincome.config import Settings, with_database
    from lowincome.embedded import EmbeddedServer
    from lowincome.transform.project import write_profiles

    # sqlparse's documented grouping limits ("Security and Performance Considerations"), lifted as dbt's
    # own CLI does by default (its --sqlparse flag): the templater calls dbt's compiler without the CLI,
    # and the models that read the large ephemeral metric model exceed the default limits
    sqlparse.engine.grouping.MAX_GROUPING_TOKENS = None
    sqlparse.engine.grouping.MAX_GROUPING_DEPTH = None
    cfg = Settings.from_env()
    server = None if cfg.external_url else EmbeddedServer(cfg)
    started = server is not None and not server.status().running
    if started:
        server.start()
    try:
        lint_cfg = dataclasses.replace(cfg, external_url=with_database(cfg.warehouse_url(), "postgres"))
        write_profiles(lint_cfg, PROFILES)
        cli.main(["lint", *argv], prog_name="sqlfluff")
    finally:
        if started:
            server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
