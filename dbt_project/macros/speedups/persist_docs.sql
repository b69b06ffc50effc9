{#- lowincome.speedups (falls back to dbt's own when off): dbt's persist_docs (descriptions as PostgreSQL comments, +persist_docs in dbt_project.yml), writing
    only the comments that differ from what the relation holds.

    dbt's own macro comments the relation and every documented column after every build. A table model
    is a new table each time, so everything is written, as before. An incremental fact keeps its table:
    there the comments were the same each night, and COMMENT takes a SHARE UPDATE EXCLUSIVE lock, the
    lock autovacuum holds: after a big load, while autovacuum was still working through
    fct_household_income, a one-file night's COMMENT waited deadlock_timeout (1 s) and then cancelled
    the vacuum (which started over later). Now an unchanged comment is read (one catalog query, no
    lock on the table) and not written. -#}
{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
  {%- if not speedups_on() -%}
    {{ return(dbt.default__persist_docs(relation, model, for_relation, for_columns)) }}
  {%- endif -%}
  {%- set relation_docs = for_relation and config.persist_relation_docs() and model.description -%}
  {%- set column_docs = for_columns and config.persist_column_docs() and model.columns -%}
  {%- if relation_docs or column_docs -%}
    {%- set stored = stored_comments(relation) -%}
    {%- if relation_docs and stored.get('') != model.description -%}
      {%- do run_query(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if column_docs -%}
      {%- set documented = validate_doc_columns(relation, model.columns, stored.keys() | reject('equalto', '') | list) -%}
      {%- set changed = {} -%}
      {%- for name, column in documented.items() -%}
        {%- if stored.get(name if column['quote'] else name | lower) != (column['description'] or '') -%}
          {%- do changed.update({name: column}) -%}
        {%- endif -%}
      {%- endfor -%}
      {%- if changed -%}
        {%- do run_query(alter_column_comment(relation, changed)) -%}
      {%- endif -%}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}


{#- The relation's comment (key '') and each column's, '' where none, read from the catalog. -#}
{% macro stored_comments(relation) -%}
  {%- set query -%}
    select '' as name, obj_description(c.oid, 'pg_class') as comment
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    where n.nspname = '{{ relation.schema }}' and c.relname = '{{ relation.identifier }}'
    union all
    select a.attname::text, col_description(c.oid, a.attnum)
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
    inner join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = '{{ relation.schema }}' and c.relname = '{{ relation.identifier }}'
  {%- endset -%}
  {%- set found = {} -%}
  {%- for row in run_query(query) -%}
    {%- do found.update({row[0]: row[1] or ''}) -%}
  {%- endfor -%}
  {{ return(found) }}
{%- endmacro %}
