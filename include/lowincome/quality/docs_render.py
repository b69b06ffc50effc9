"""How the validation Data Docs show a night: severities, Asia/Shanghai times, failures, no vendor footer.

GX's site builder takes the renderer and view of each part of the site from ``great_expectations.yml``
(``data_docs_sites.<site>.site_section_builders.validations.renderer/view`` and
``site_index_builder.renderer/view``, the configuration its ``SiteBuilder`` documents); the classes
named there are these subclasses of GX's own. Nothing of GX is replaced at run time.

* **Severity.** Every expectation carries GX's ``severity`` (:data:`lowincome.quality.suites.GX_SEVERITY`:
  a ``warn`` rule is ``warning``, a rejecting rule ``critical``). GX 1.24 computes the most severe failure
  of a run (``ExpectationSuiteValidationResult.get_max_severity_failure``, what its checkpoint actions
  notify on) but its Data Docs draw every failure as a red ✗. Here a failed ``warning`` or ``info``
  expectation gets a yellow ⚠ (class ``ge-warning-icon``), and a run whose failures are all warnings
  is "Passed with warnings" (⚠) on its page and in the index, not "Failed". The index reads the most
  severe failure from the result's meta (``meta.lowincome.max_failure_severity``, written when the
  result is stored), or asks GX for it.
* **Time.** Every time shown (the index's Run Time, a page's title, its Info table and the batch's
  load time) is in Asia/Shanghai, as everything else in the platform, written ``2014-05-01 02:00:00
  +08:00``. GX writes the machine's local time, or UTC with a ``Z`` (the page's Info table).
* **Size.** A result's page lists the rules that failed, each with its row numbers (at most 20, see
  :mod:`lowincome.quality.results`), and counts the ones that passed, pointing at the suite's page,
  which lists every rule: GX's page listing all ~55-70 rules of a template was ~75-80 KB a file, almost
  all of it the markup of rules that passed (GX hides them behind its "Failed Only" switch); this one
  is ~20 KB. The stored result keeps every rule.
* **Footer.** GX's pages end with its newsletter footer (``cloud-footer.j2``, included by every page
  and by the index, with no setting to turn it off). The views here render that template as nothing:
  their Jinja environment looks in :data:`OVERRIDDEN_TEMPLATES` before GX's own templates (GX's
  ``custom_views_directory`` is looked in after them, so it can add templates but not replace one).
  The favicon's link is corrected there too.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.parser import parse as parse_time
from jinja2 import ChoiceLoader, DictLoader

from lowincome.quality.context import gx

gx()  # GX imported our way (warnings, analytics) before its modules below

from great_expectations.render import RenderedStringTemplateContent  # noqa: E402
from great_expectations.render.renderer import SiteIndexPageRenderer, ValidationResultsPageRenderer  # noqa: E402
from great_expectations.render.renderer.content_block import (  # noqa: E402
    ValidationResultsTableContentBlockRenderer,
)
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView  # noqa: E402

TIME_ZONE = ZoneInfo("Asia/Shanghai")
# Failures of these GX severities are warnings: the file loaded (validation.yaml's ``warn``).
WARNING_SEVERITIES = frozenset({"warning", "info"})
WARNING_ICON_CLASSES = ["fas", "fa-exclamation-triangle", "text-warning", "ge-warning-icon"]
WARNING_STATUS = "Passed with warnings"
# GX templates rendered as something else (name -> Jinja source): its vendor footer as nothing, and its
# favicon link with the right depth for a result's page (GX 1.24 climbs three folders from
# validations/<suite>/<run name>/<run time>/, so the browser logs a missing favicon on every result page;
# its navigation bar climbs four).
OVERRIDDEN_TEMPLATES = {
    "cloud-footer.j2": "",
    "favicon.j2": """\
{%- set depth = (expectation_suite_name.count(".") if expectation_suite_name else 0) -%}
{%- if "ValidationResults" in renderer_type or "ProfilingResults" in renderer_type -%}
  {%- set static_images_dir = ((depth + 4) * "../") + "static/images/" -%}
{%- elif "ExpectationSuite" in renderer_type -%}
  {%- set static_images_dir = ((depth + 1) * "../") + "static/images/" -%}
{%- else -%}
  {%- set static_images_dir = "./static/images/" -%}
{%- endif -%}
<link rel="shortcut icon" href="{{ static_images_dir + "favicon.ico" }}" type="image/x-icon"/>
""",
}


def local_time(value: Any) -> str | None:
    """A time as the platform shows it: Asia/Shanghai, ``YYYY-MM-DD HH:MM:SS +08:00``.

    ``value`` is a datetime or GX's text of one (ISO, or a key's ``20141207T114501.921312Z``); a time
    without a zone is UTC, as GX stores them. Anything else is None.
    """
    if isinstance(value, str):
        try:
            value = parse_time(value)
        except (ValueError, OverflowError):
            return None
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    shown = value.astimezone(TIME_ZONE)
    offset = shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def max_failure_severity(validation_result: Any) -> str | None:
    """The most severe GX severity among the failed expectations of a run (None: nothing failed).

    From the meta our results store writes (``meta.lowincome.max_failure_severity``), else GX's own
    ``get_max_severity_failure`` on the result's expectations.
    """
    if validation_result.success:
        return None
    ours = (validation_result.meta or {}).get("lowincome") or {}
    if ours.get("max_failure_severity"):
        return str(ours["max_failure_severity"])
    found = validation_result.get_max_severity_failure()
    # a failed run GX cannot place (no expectation results, e.g. a summary): a failure
    return found.value if found is not None else "critical"


def _icon(classes: list[str], markdown: str) -> RenderedStringTemplateContent:
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={"template": "$icon", "params": {"icon": "", "markdown_status_icon": markdown},
                         "styling": {"params": {"icon": {"tag": "i", "classes": list(classes)}}}},
    )


class ValidationPageRenderer(ValidationResultsPageRenderer):
    """GX's validation result page with the run's severity in its Overview and Asia/Shanghai times."""

    def __init__(self, column_section_renderer=None, run_info_at_end: bool = False, data_context=None) -> None:
        if column_section_renderer is None:
            column_section_renderer = {
                "class_name": "ValidationResultsColumnSectionRenderer",
                "table_renderer": {"module_name": __name__, "class_name": ValidationTableRenderer.__name__},
            }
        super().__init__(column_section_renderer=column_section_renderer, run_info_at_end=run_info_at_end,
                         data_context=data_context)

    def render(self, validation_results, suite_parameters=None):
        shown = copy.copy(validation_results)  # the stored result stays as it is
        shown.results = [result for result in validation_results.results if not result.success]
        markers = (validation_results.meta or {}).get("batch_markers") or {}
        if local_time(markers.get("ge_load_time")):
            shown.meta = {**validation_results.meta,
                          "batch_markers": {**markers, "ge_load_time": local_time(markers["ge_load_time"])}}
        document = super().render(shown, suite_parameters=suite_parameters)
        passed = len(validation_results.results) - len(shown.results)
        if passed and document.sections:
            document.sections[0].content_blocks.append(_passed_note(passed, validation_results.suite_name))
        return document

    def _parse_run_values(self, validation_results):
        run_name, run_time = super()._parse_run_values(validation_results)
        return run_name, _run_time(validation_results) or run_time

    @classmethod
    def _render_validation_header(cls, validation_results):
        header = super()._render_validation_header(validation_results)
        if max_failure_severity(validation_results) in WARNING_SEVERITIES:
            params = header.subheader.string_template["params"]
            params["success"] = WARNING_STATUS
            params["html_success_icon"] = f'<i class="{" ".join(WARNING_ICON_CLASSES)}" aria-hidden="true"></i>'
        return header

    @classmethod
    def _render_validation_info(cls, validation_results):
        info = super()._render_validation_info(validation_results)
        shown = _run_time(validation_results)
        if shown:
            info.table = [[row[0], shown] if row and row[0] == "Run Time" else row for row in info.table]
        return info


def _passed_note(passed: int, suite_name: str) -> RenderedStringTemplateContent:
    """The Overview's line saying where the rules that passed are (the suite's page lists every rule)."""
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "$passed rules passed and are not listed here: the page of $suite lists every rule.",
            "params": {"passed": str(passed), "suite": suite_name},
            "styling": {"classes": ["ge-passed-rules-note", "mb-0", "mt-1"],
                        "params": {"suite": {"tag": "a", "attributes": {
                            "href": f"{'../' * (len(suite_name.split('.')) + 3)}expectations/"
                                    f"{'/'.join(suite_name.split('.'))}.html"}}}},
        },
        styling={"classes": ["col-12", "p-1"]},
    )


def _run_time(validation_results) -> str | None:
    run_id = (validation_results.meta or {}).get("run_id")
    if isinstance(run_id, dict):
        return local_time(run_id.get("run_time"))
    return local_time(getattr(run_id, "run_time", None))


class ValidationTableRenderer(ValidationResultsTableContentBlockRenderer):
    """GX's table of a column's expectations, a failed warning drawn ⚠ instead of ✗."""

    @classmethod
    def _get_content_block_fn(cls, expectation_type, expectation_config=None):
        row_fn = super()._get_content_block_fn(expectation_type=expectation_type,
                                               expectation_config=expectation_config)
        if row_fn is None:
            return None

        def row_with_severity(configuration=None, result=None, runtime_configuration=None, **kwargs):
            rows = row_fn(configuration=configuration, result=result, runtime_configuration=runtime_configuration,
                          **kwargs)
            config = getattr(result, "expectation_config", None)
            severity = getattr(config, "severity", None)
            severity = getattr(severity, "value", severity)
            if result is not None and not result.success and severity in WARNING_SEVERITIES and rows:
                rows[0][0] = _icon(WARNING_ICON_CLASSES, "⚠️")
            return rows

        return row_with_severity


class IndexPageRenderer(SiteIndexPageRenderer):
    """GX's index with each run's severity (⚠ for a run whose failures are warnings) and Asia/Shanghai times."""

    def __init__(self, data_context=None) -> None:
        super().__init__()
        self._data_context = data_context

    def render(self, index_links_dict):
        warned = {link["filepath"] for link in index_links_dict.get("validations_links", [])
                  if link.get("validation_success") is False and self._severity(link) in WARNING_SEVERITIES}
        document = super().render(index_links_dict)
        for row in _validation_rows(document):
            if row.get("_table_row_link_path") in warned:
                row["validation_success"] = _icon(WARNING_ICON_CLASSES, "⚠️")
                row["_validation_success_text"] = "Warning"
        return document

    def _severity(self, link: dict) -> str | None:
        if self._data_context is None:
            return None
        try:
            result = self._data_context.get_validation_result(
                link["expectation_suite_name"], run_id=link["run_id"], batch_identifier=link["batch_identifier"])
        except Exception:  # noqa: BLE001 - a result that cannot be read stays a failure in the index
            return None
        return max_failure_severity(result) if hasattr(result, "success") else None

    @classmethod
    def _get_formatted_datetime(cls, _datetime):
        return local_time(_datetime)


def _validation_rows(document) -> list[dict]:
    """The rows of the index's validation results table (GX: a bootstrap table in a tab)."""
    rows: list[dict] = []
    for section in getattr(document, "sections", None) or []:
        for block in section.content_blocks or []:
            for tab in getattr(block, "tabs", None) or []:
                table = tab.get("tab_content")
                data = getattr(table, "table_data", None) or []
                rows += [row for row in data if isinstance(row, dict) and "_table_row_link_path" in row]
    return rows


class _WithoutVendorFooter:
    """A GX Jinja view that renders :data:`OVERRIDDEN_TEMPLATES` instead of GX's templates of those names."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory=custom_styles_directory,  # type: ignore[call-arg]
                         custom_views_directory=custom_views_directory)
        self.env.loader = ChoiceLoader([DictLoader(OVERRIDDEN_TEMPLATES), self.env.loader])


class PageView(_WithoutVendorFooter, DefaultJinjaPageView):
    """GX's page view (validation results, expectation suites) without the vendor footer."""


class IndexPageView(_WithoutVendorFooter, DefaultJinjaIndexPageView):
    """GX's index page view without the vendor footer."""
