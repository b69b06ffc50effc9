"""Third-party internals are replaced only inside lowincome.speedups, and one switch turns all of it off.

A static reading of every module of the platform (``include/lowincome``, ``dags``, ``plugins``) outside
``lowincome/speedups``; it fails on a new patch anywhere else:

* an attribute assigned on a name that an import bound to a module, class or function of another
  package (``IDDict.to_id = ...``, ``run_identifier.parse = ...``), or through ``setattr`` on one;
* a private attribute (``obj._name``) assigned on anything but ``self`` or ``cls``;
* a function, lambda, property or classmethod assigned as an attribute of anything but ``self``;
* ``exec``/``eval`` and ``os.fork`` (these nowhere at all, ``lowincome.speedups`` included).

Settings a library documents for its users to assign (``DOCUMENTED_SETTINGS``) are not patches.

And for dbt: a macro of ``dbt_project/macros`` outside ``macros/speedups/`` that has the name of one of
dbt's own (global project or dbt-postgres), other than the hooks dbt documents for a project to
override (schema, alias and database names).
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import dbt.include.global_project
import dbt.include.postgres

from lowincome import speedups

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "include" / "lowincome"
SPEEDUPS = PACKAGE / "speedups"
MACROS = ROOT / "dbt_project" / "macros"
# dbt's documented customisation points ("Custom schemas", "Custom aliases", "Custom databases")
DOCUMENTED_OVERRIDES = {"generate_schema_name", "generate_alias_name", "generate_database_name"}
SELF_NAMES = {"self", "cls"}
# module settings a library documents for its users to set: sqlparse's grouping limits ("Security and
# Performance Considerations" in sqlparse's API docs; dbt's --sqlparse flag sets the same two)
DOCUMENTED_SETTINGS = {"sqlparse.engine.grouping.MAX_GROUPING_TOKENS", "sqlparse.engine.grouping.MAX_GROUPING_DEPTH"}


def _modules() -> list[Path]:
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "dags").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    return sorted(f for f in files if SPEEDUPS not in f.parents)


def _foreign_names(tree: ast.AST) -> set[str]:
    """Names an import in this module binds to something of another package (anywhere in the module)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("lowincome"):
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and not (node.module or "").startswith("lowincome"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_function(value: ast.AST) -> bool:
    if isinstance(value, ast.Lambda):
        return True
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id in ("property", "classmethod", "staticmethod"))


def patches_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    foreign = _foreign_names(tree)
    local_functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = []

    def where(node: ast.AST, what: str) -> None:
        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            if not isinstance(target, ast.Attribute):
                continue
            root = _root(target)
            text = ast.unparse(target)
            if text in DOCUMENTED_SETTINGS:
                continue
            if root in foreign:
                where(node, f"assigns {text} of an imported package")
            elif target.attr.startswith("_") and not target.attr.startswith("__") and root not in SELF_NAMES:
                where(node, f"assigns the private attribute {text}")
            elif root not in SELF_NAMES and (_is_function(node.value) or (
                    isinstance(node.value, ast.Name) and node.value.id in local_functions)):
                where(node, f"replaces the method {text}")
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func in ("exec", "eval", "os.fork", "builtins.exec"):
                where(node, f"calls {func}()")
            elif func == "setattr" and node.args and _root(node.args[0]) in foreign:
                where(node, f"setattr on {ast.unparse(node.args[0])} of an imported package")
    return found


def test_no_third_party_internals_are_replaced_outside_speedups():
    found = [line for path in _modules() for line in patches_in(path)]
    assert not found, ("patches of third-party internals belong in lowincome.speedups (one switch, "
                       "listed in speedups.PATCHES):\n" + "\n".join(found))


def test_no_code_is_generated_and_no_process_forked_anywhere():
    """Not even inside lowincome.speedups: rows are normalised by plain functions (no ``exec``), and a big
    file's second parser is a fresh interpreter, never an ``os.fork()`` of the task's process."""
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "dags").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    found = [line for path in sorted(files) for line in patches_in(path)
             if line.endswith(("calls exec()", "calls eval()", "calls builtins.exec()", "calls os.fork()"))]
    assert not found, found


def test_the_scan_finds_the_patches_it_is_meant_to_find(tmp_path):
    """The reader itself: each kind of patch, written plainly, is found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nfrom great_expectations.core.id_dict import IDDict\n"
        "IDDict.to_id = lambda self: 'x'\n"
        "def f(engine, store, context):\n"
        "    engine._caching = False\n"
        "    store.list_keys = lambda: []\n"
        "    context.get_result = f\n"
        "    exec('1')\n"
        "    os.fork()\n"
        "    self_ok = 1\n")
    found = _scan_outside(sample)
    assert [line.split(": ", 1)[1] for line in found] == [
        "assigns IDDict.to_id of an imported package", "assigns the private attribute engine._caching",
        "replaces the method store.list_keys", "replaces the method context.get_result", "calls exec()",
        "calls os.fork()"]


def _scan_outside(path: Path) -> list[str]:
    """patches_in for a file outside the repository (its path shown as it is)."""
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return patches_in(path)
    finally:
        ROOT = saved


def _dbt_macro_names(package_dir: Path) -> set[str]:
    return {name for f in package_dir.rglob("*.sql") for name in _dbt_macro_names_in(f)}


def test_dbt_macros_of_dbt_are_overridden_only_in_macros_speedups():
    shipped = (_dbt_macro_names(Path(dbt.include.global_project.__path__[0]))
               | _dbt_macro_names(Path(dbt.include.postgres.__path__[0])))
    assert {"default__persist_docs", "get_where_subquery"} <= shipped   # the reader finds dbt's macros
    ours = {f: _dbt_macro_names_in(f) for f in MACROS.rglob("*.sql")}
    outside = {str(f.relative_to(ROOT)): sorted(n for n in names if n in shipped or _dispatched(n, shipped))
               for f, names in ours.items() if MACROS / "speedups" not in f.parents}
    outside = {f: [n for n in names if n not in DOCUMENTED_OVERRIDES] for f, names in outside.items()}
    assert not {f: n for f, n in outside.items() if n}, outside


def _dbt_macro_names_in(path: Path) -> set[str]:
    return set(re.findall(r"{%-?\s*macro\s+(\w+)", path.read_text()))


def _dispatched(name: str, shipped: set[str]) -> bool:
    """``postgres__x`` overrides dbt's ``x`` through adapter.dispatch when dbt has ``default__x``."""
    return name.startswith("postgres__") and f"default__{name.removeprefix('postgres__')}" in shipped


def test_every_speedup_is_listed_with_what_it_replaces():
    listed = {p.where for p in speedups.PATCHES}
    modules = {f"lowincome.speedups.{f.stem}" for f in SPEEDUPS.glob("*.py") if f.stem != "__init__"}
    macros = {str(f.relative_to(ROOT)) for f in (MACROS / "speedups").glob("*.sql") if f.stem != "speedups_on"}
    assert modules | macros == listed
    assert all(p.replaces and p.gain and p.checked_for for p in speedups.PATCHES)


def test_with_the_switch_off_the_libraries_run_as_shipped():
    """LOWINCOME_SPEEDUPS=0 in a fresh process: nothing of GX or dbt is replaced; on, all of it is."""
    probe = (
        "from lowincome.quality.context import gx\n"
        "gx()\n"
        "from lowincome.speedups import dbt_flags\n"
        "installed = dbt_flags.install()\n"
        "from great_expectations.expectations.expectation import Expectation\n"
        "from great_expectations.core.id_dict import IDDict\n"
        "from great_expectations.validator.metrics_calculator import MetricsCalculator\n"
        "from dbt_common.behavior_flags import BehaviorFlagRendered\n"
        "owners = [Expectation.configuration.fget, IDDict.to_id, MetricsCalculator.build_metric_dependency_graph,\n"
        "          BehaviorFlagRendered._default_source]\n"
        "print(installed, *(f.__module__.split('.')[0] for f in owners))\n")
    for switch, expected in (("0", "False great_expectations great_expectations great_expectations dbt_common"),
                             ("1", "True lowincome lowincome lowincome lowincome")):
        result = subprocess.run([sys.executable, "-c", probe], env={**os.environ, speedups.SWITCH: switch},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == expected.split(), result.stdout
