"""The published pages (HTML report, validation Data Docs, dbt docs) served read-only by Airflow's
api-server, to signed-in users only, so that a UI user reaches them from Airflow's navigation.

A FastAPI app that the plugin (plugins/lowincome_plugin.py) mounts under ``/lowincome``: every request
needs the user Airflow's UI signed in (its JWT, as the ``Authorization`` header or the UI's cookie;
``requires_authenticated``), files are read from the three folders only (no listing, no path outside
them), and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

from lowincome.config import Settings, settings

URL_PREFIX = "/lowincome"
# section -> (title in Airflow's navigation, folder under the data folder)
SECTIONS = {
    "report": ("Monitoring report", ("reports",)),
    "validation": ("Validation results (Data Docs)", ("docs", "validation")),
    "dbt": ("dbt docs", ("docs", "dbt")),
}


def section_root(cfg: Settings, section: str) -> Path:
    if section not in SECTIONS:
        raise HTTPException(status_code=404, detail="no such page")
    return cfg.data_dir.joinpath(*SECTIONS[section][1])


def published_file(cfg: Settings, section: str, path: str) -> Path:
    """The file a page path names, inside its section's folder (a folder's index.html); 404 otherwise."""
    root = section_root(cfg, section).resolve()
    wanted = (root / path).resolve()
    if wanted.is_dir():
        wanted = wanted / "index.html"
    if not wanted.is_relative_to(root) or not wanted.is_file():
        raise HTTPException(status_code=404, detail="not published yet" if path in ("", "index.html")
                            else "no such page")
    return wanted


async def signed_in(request: Request) -> None:
    """Airflow's own check of the caller's JWT: the ``Authorization: Bearer`` header, else the UI's cookie
    (as the core API reads them); 401/403 otherwise. Imported here, in the api-server only: every task
    process loads the plugin (its listener) and would otherwise import the API's security for nothing."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    await resolve_user_from_token(token.strip() if scheme.lower() == "bearer" and token.strip()
                                  else request.cookies.get(COOKIE_NAME_JWT_TOKEN))


def pages_app() -> FastAPI:
    """The app the api-server mounts: GET ``/<section>/<path>`` for report, validation and dbt."""
    app = FastAPI(title="lowincome pages", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(signed_in)])

    @app.get("/{section}")
    def section_index(section: str) -> RedirectResponse:
        section_root(settings(), section)
        return RedirectResponse(f"{section}/index.html")

    @app.get("/{section}/{path:path}")
    def page(section: str, path: str) -> FileResponse:
        return FileResponse(published_file(settings(), section, path))

    return app


def external_views() -> list[dict]:
    """Airflow's navigation entries (``external_views``): each section shown inside the UI."""
    return [{"name": title, "href": f"{URL_PREFIX.lstrip('/')}/{section}/index.html", "destination": "nav",
             "category": "browse", "url_route": f"lowincome-{section}"}
            for section, (title, _) in SECTIONS.items()]
