{#- The names a contracted table's constraints would have had if it had been created under its own name
    (the marts' post-hook, dbt_project.yml).

    dbt creates a table model as <name>__dbt_tmp and renames it, so the constraints of its contract keep
    PostgreSQL's names for the temporary table: target_attainment__dbt_tmp_pkey, and on PostgreSQL 18
    every not-null constraint (<name>__dbt_tmp_<column>_not_null). A BI tool, an error message or a DBA
    then shows a name of dbt's internals. Naming them in the contract (`name:`) does not help the primary
    and unique keys: their index is a relation of the schema, and the previous table, still there under
    its own name while the new one is built, holds that name (dbt drops it only after the commit). Column
    constraints have no `name:` at all. So after the rename (this hook runs inside dbt's transaction) each
    <name>__dbt_tmp* constraint takes the name without __dbt_tmp; where the previous table (by then
    <name>__dbt_backup, dropped after the commit) holds that name, it gives it up first. -#}
{% macro strip_dbt_tmp_from_constraint_names(relation) -%}
do $constraint_names$
declare
    schema_name text := {{ dbt.string_literal(relation.schema) }};
    table_name text := {{ dbt.string_literal(relation.identifier) }};
    target regclass := to_regclass(format('%I.%I', schema_name, table_name));
    backup regclass := to_regclass(format('%I.%I', schema_name, table_name || '__dbt_backup'));
    temporary_prefix text := table_name || '__dbt_tmp';
    con record;
    wanted text;
begin
    if target is null then
        return;
    end if;
    for con in
        select conname from pg_catalog.pg_constraint
        where conrelid = target and pg_catalog.strpos(conname, temporary_prefix) = 1
    loop
        wanted := table_name || pg_catalog.substr(con.conname, pg_catalog.length(temporary_prefix) + 1);
        if backup is not null and exists (
                select 1 from pg_catalog.pg_constraint where conrelid = backup and conname = wanted) then
            execute format('alter table %s rename constraint %I to %I', backup, wanted,
                           pg_catalog.left(wanted, 50) || '__dbt_prev');
        end if;
        execute format('alter table %s rename constraint %I to %I', target, con.conname, wanted);
    end loop;
end
$constraint_names$
{%- endmacro %}
