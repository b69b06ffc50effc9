"""The dbt project's configuration: generated sources, seeds that match the contract, the manifest the DAG
renders from, the profile, and the offline docs site."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
import yaml
from psycopg import sql

from lowincome.quality.policy import policy
from lowincome.templates import templates
from lowincome.transform import cosmos_config, project, sources

PROJECT = Path(__file__).resolve().parents[2]
DBT = PROJECT / "dbt_project"


def test_sources_file_is_generated_from_the_contract():
    assert sources.sources_file().read_text(encoding="utf-8") == sources.sources_yml(), (
        "models/staging/_sources.yml is out of date: run `python -m lowincome.transform.sources`")
    names = {t["name"] for t in sources.sources_document()["sources"][0]["tables"]}
    assert names == set(templates())


def test_every_raw_table_has_a_staging_model_and_freshness():
    for name in templates():
        assert (DBT / "models" / "staging" / "raw" / f"stg_raw__{name}.sql").exists()
    for table in sources.sources_document()["sources"][0]["tables"]:
        assert table["config"]["freshness"]["warn_after"]
        assert "reporting_calendar" in table["config"]["loaded_at_query"]


def test_county_seed_is_the_platforms_county_list():
    copy = (DBT / "seeds" / "counties.csv").read_bytes()
    assert copy == (PROJECT / "include" / "config" / "counties.csv").read_bytes(), (
        "dbt_project/seeds/counties.csv differs from include/config/counties.csv: copy the latter over it")


def test_programs_seed_matches_the_contracts_synonyms():
    with open(DBT / "seeds" / "programs.csv", encoding="utf-8") as handle:
        seed = {row["program_code"]: row["program_zh"] for row in csv.DictReader(handle)}
    assert seed == templates()["program_participation"].column("program").synonyms


def test_relocation_types_seed_covers_the_contract():
    with open(DBT / "seeds" / "relocation_types.csv", encoding="utf-8") as handle:
        quota = {row["relocation_type"]: int(row["land_quota_m2_per_person"]) for row in csv.DictReader(handle)}
    assert set(quota) == set(templates()["relocations"].column("relocation_type").values)
    assert quota["地质灾害隐患"] == 80 and quota["高山远山"] == 40
    # the validation warns against the same quota for every type (R3 judges every type by the seed)
    assert policy().threshold("land_quota_m2_per_person") == quota


@pytest.mark.slow
def test_staging_keeps_every_contract_column_except_personal_ones(built_warehouse):
    personal = {"head_name", "head_id_number", "household_id", "relocation_id"}
    renamed = {"program": "program_zh"}
    with built_warehouse.connect() as conn:
        for name, tpl in templates().items():
            columns = {r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'staging'"
                " and table_name = %s", (f"stg_raw__{name}",))}
            expected = {renamed.get(c, c) for c in tpl.column_names} - personal
            expected |= set(tpl.pseudonyms) | {"submission_id", "source_row"}
            if tpl.fixed_county_code:
                expected.discard("county_code")
            if name == "program_participation":
                expected.add("program_code")
            assert columns == expected, name
            # the rows that count: the same columns and the file's vintage
            current = {r[0] for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'intermediate'"
                " and table_name = %s", (f"int_{name}_filtered_to_current",))}
            assert current == expected | {"vintage"}, name


@pytest.fixture
def project_copy(cfg, tmp_path):
    """The project copied, to parse on its own."""
    shutil.copytree(DBT, tmp_path / "dbt_project", ignore=shutil.ignore_patterns("target", "logs"))
    return dataclasses.replace(cfg, project_root=tmp_path, state_dir=tmp_path / "state")


@pytest.mark.slow
def test_ensure_manifest_parses_only_when_the_project_changed(project_copy):
    from lowincome.transform import ensure_manifest

    manifest = ensure_manifest(project_copy)
    built = manifest.stat().st_mtime_ns
    nodes = json.loads(manifest.read_text())["nodes"]
    assert "model.lowincome.fct_household_income" in nodes

    assert ensure_manifest(project_copy).stat().st_mtime_ns == built      # current: no parse
    time.sleep(0.05)
    (project_copy.dbt_project_dir / "models" / "warehouse" / "dim_year.sql").touch()
    assert ensure_manifest(project_copy).stat().st_mtime_ns > built        # changed: parsed again


def test_profiles_live_in_the_state_folder_private(cfg, tmp_path):
    local = dataclasses.replace(cfg, state_dir=tmp_path / "state")
    path = project.write_profiles(local)
    assert path == tmp_path / "state" / "dbt" / "profiles.yml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    output = yaml.safe_load(path.read_text())["lowincome"]["outputs"]["local"]
    params = project.connection_params(local)
    assert output["dbname"] == f"{{{{ env_var('LOWINCOME_DBT_DBNAME', '{params['dbname']}') }}}}"
    assert output["schema"] == "staging"
    assert set(project.profile_env(local)) >= {"LOWINCOME_DBT_HOST", "DBT_ENV_SECRET_LOWINCOME_DBT_PASSWORD"}


def test_cosmos_profile_comes_from_the_airflow_connection(cfg):
    params = project.connection_params(cfg)
    with_password = f"postgresql://{params['user']}:pw@{params['host']}:{params['port']}/{params['dbname']}"
    config = cosmos_config.profile_config(dataclasses.replace(cfg, external_url=with_password))
    mapping = config.profile_mapping
    assert mapping.conn_id == "lowincome_warehouse"
    profile = mapping.profile
    params = project.connection_params(cfg)
    assert (profile["host"], str(profile["port"]), profile["dbname"], profile["schema"]) == (
        params["host"], params["port"], params["dbname"], "staging")
    assert "password" not in json.dumps({k: v for k, v in profile.items() if k != "password"})


def test_a_warehouse_without_a_password_runs_dbt_with_the_projects_profile(cfg, tmp_path):
    """Trust, ~/.pgpass or a client certificate: cosmos's Postgres mapping needs a password, ours does not."""
    params = project.connection_params(cfg)
    url = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
    local = dataclasses.replace(cfg, state_dir=tmp_path / "state", external_url=url)
    config = cosmos_config.profile_config(local)
    assert config.profile_mapping is None
    assert config.profiles_yml_filepath == project.own_profiles_path(local)
    output = yaml.safe_load(config.profiles_yml_filepath.read_text())["lowincome"]["outputs"][config.target_name]
    assert output["password"] == "{{ env_var('DBT_ENV_SECRET_LOWINCOME_DBT_PASSWORD', '') }}"
    assert output["dbname"] == f"{{{{ env_var('LOWINCOME_DBT_DBNAME', '{params['dbname']}') }}}}"
    # a warehouse of its own file: another session writing its profile never redirects this one's dbt
    other = dataclasses.replace(local, external_url=url.rsplit("/", 1)[0] + "/another_warehouse")
    assert cosmos_config.profile_config(other).profiles_yml_filepath != config.profiles_yml_filepath
    project.write_profiles(other)
    assert yaml.safe_load(config.profiles_yml_filepath.read_text()) == {"lowincome": {
        "target": "local", "outputs": {"local": output}}}


def test_layers_are_built_as_the_dbt_community_structures_them(cfg):
    """Staging: one model per source table, reading that one source only (renames and casts; which file
    counts is decided in the intermediate layer). Intermediate: every model named int_*. The marts and
    the intermediate models only they read are the publication's, the rest the warehouse build's."""
    from lowincome.transform import ensure_manifest

    manifest = json.loads(ensure_manifest(cfg).read_text())
    models = {uid: node for uid, node in manifest["nodes"].items()
              if node["resource_type"] == "model" and node["package_name"] == project.PROJECT_NAME}
    staging = intermediate = 0
    for uid, node in models.items():
        path = node["original_file_path"]
        parents = manifest["parent_map"][uid]
        if path.startswith("models/staging/"):
            staging += 1
            sources = [p for p in parents if p.startswith("source.")]
            models_read = [p for p in parents if p.startswith("model.")]
            assert len(sources) == 1 and not models_read, f"{node['name']} reads {parents}: one source only"
            source = manifest["sources"][sources[0]]
            assert node["name"] == f"stg_{source['source_name']}__{source['name']}"
            assert path.startswith(f"models/staging/{source['source_name']}/")
        elif path.startswith("models/intermediate/"):
            intermediate += 1
            assert node["name"].startswith("int_"), f"{path}: an intermediate model is named int_*"
            assert node["schema"] == "intermediate", f"{node['name']} is never published"
        else:
            assert not node["name"].startswith(("stg_", "int_")), f"{path}: stg_/int_ models live in their layer"
    assert staging == len(templates()) + 1 and intermediate > 0
    # the rule for which file counts is in one model: the only one that ranks the ledger
    distinct_on = [n["name"] for n in models.values() if "distinct on" in n["raw_code"].lower()
                   and "stg_ops__submissions" in n["raw_code"]]
    assert distinct_on == ["int_submissions_filtered_to_current"]


def test_the_dag_renders_from_the_manifest(cfg):
    from cosmos.constants import LoadMode

    from lowincome.transform import ensure_manifest

    assert cosmos_config.render_config().load_method == LoadMode.DBT_MANIFEST
    assert str(cosmos_config.project_config(cfg).manifest_path) == str(ensure_manifest(cfg))


@pytest.mark.slow
def test_docs_site_is_built_offline(built_warehouse):
    from lowincome.transform import build_docs

    index = build_docs(built_warehouse.cfg)
    assert index == built_warehouse.cfg.data_dir / "docs" / "dbt" / "index.html"
    page = index.read_text(encoding="utf-8")
    # manifest and catalog embedded (JSON escapes the Chinese)
    assert "fct_household_income" in page and json.dumps("低收入农户")[1:-1] in page
    assert "cloudfront" not in page and "sinter-collect" in page         # tracker script never loads
    for tag in ("<script src=\"http", "<link href=\"http", "src=\"//"):
        assert tag not in page
    assert not os.environ.get("LOWINCOME_DBT_HOST")


@pytest.mark.slow
def test_docs_are_generated_again_only_when_the_project_or_the_warehouse_shape_changed(built_warehouse):
    from lowincome.transform import build_docs
    from lowincome.transform.runs import docs_fingerprint

    cfg = built_warehouse.cfg
    index = build_docs(cfg)
    generated = index.stat().st_mtime_ns
    before = docs_fingerprint(cfg)
    assert build_docs(cfg) == index and index.stat().st_mtime_ns == generated  # a night that changed nothing
    with built_warehouse.connect() as conn:
        comment = conn.execute("select col_description(attrelid, attnum) from pg_attribute where attrelid ="
                               " 'warehouse.dim_county'::regclass and attname = 'county_code'").fetchone()[0]
        conn.execute("create view intermediate.docs_probe as select 1 as probe")
        try:
            # a new relation, a changed column comment: the catalog would differ
            assert docs_fingerprint(cfg) != before
            conn.execute("drop view intermediate.docs_probe")
            assert docs_fingerprint(cfg) == before
            conn.execute("create table ops.load_docs_probe (probe text)")  # ingestion's scratch tables do not count
            assert docs_fingerprint(cfg) == before
            conn.execute("drop table ops.load_docs_probe")
            conn.execute("comment on column warehouse.dim_county.county_code is 'probe'")
            assert docs_fingerprint(cfg) != before
        finally:
            conn.execute("drop view if exists intermediate.docs_probe")
            conn.execute("drop table if exists ops.load_docs_probe")
            conn.execute(sql.SQL("comment on column warehouse.dim_county.county_code is {}").format(sql.Literal(comment)))
    assert docs_fingerprint(cfg) == before
    assert build_docs(cfg, force=True) == index and index.stat().st_mtime_ns > generated


@pytest.mark.slow
def test_a_template_is_stale_until_every_county_sent_the_latest_due_year(new_warehouse):
    from lowincome.errors import UserError
    from lowincome.transform.project import run_dir

    warehouse = new_warehouse()
    warehouse.dbt("seed", "--select", "counties", "reporting_calendar")
    with warehouse.connect() as conn:
        due = conn.execute("select max(year) from intermediate.reporting_calendar"
                           " where template = 'households' and deadline < current_date").fetchone()[0]
        counties = [r[0] for r in conn.execute("select county_code from intermediate.counties")]
        for county in counties[:-1]:
            conn.execute("insert into ops.submissions (file_name, sha256, county_code, template, year, status)"
                         " values ('f.csv', md5(%s) || md5(%s), %s, 'households', %s, 'loaded')",
                         (county, "x", county, due))

    def statuses() -> dict[str, str]:
        with pytest.raises(UserError, match="dbt source failed"):
            warehouse.dbt("source", "freshness")
        results = json.loads((run_dir(warehouse.cfg) / "target" / "sources.json").read_text())["results"]
        return {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}

    assert statuses()["households"] == "error"          # one county has not sent it
    with warehouse.connect() as conn:
        conn.execute("insert into ops.submissions (file_name, sha256, county_code, template, year, status)"
                     " values ('f.csv', md5('last') || md5('y'), %s, 'households', %s, 'loaded')",
                     (counties[-1], due))
    fresh = statuses()
    assert fresh["households"] == "pass"
    assert fresh["villages"] == "error"


def test_run_variables_are_passed_only_by_the_caller_of_a_run(cfg, monkeypatch):
    from lowincome.transform.runs import dbt_command

    monkeypatch.setenv("LOWINCOME_PUBLISHED_AT", "2000-01-01T00:00:00+08:00")  # left over in this process
    argv, env = dbt_command(cfg, ["build", "--select", "path:models/marts"])
    assert "LOWINCOME_PUBLISHED_AT" not in env and argv[1:4] == ["build", "--select", "path:models/marts"]
    _, env = dbt_command(cfg, ["build"], env={"LOWINCOME_PUBLISHED_AT": "2018-05-10T12:00:00+08:00"})
    assert env["LOWINCOME_PUBLISHED_AT"] == "2018-05-10T12:00:00+08:00"
    with pytest.raises(ValueError, match="LOWINCOME_SOMETHING"):
        dbt_command(cfg, ["build"], env={"LOWINCOME_SOMETHING": "x"})
