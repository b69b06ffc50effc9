{#- lowincome.speedups (dbt's own statements alone when off): the delete+insert step of the incremental models (the facts, the partials): dbt's own statements,
    with the new rows ANALYZEd first.

    dbt builds the new rows into a temporary table and then deletes the target's rows whose unique key
    (county_code, year) is in it. PostgreSQL has no statistics on a table created moments before, so it
    guessed 200 county-years, hashed them and read the whole target: a one-county correction of
    fct_household_income read 5.6 million rows (1.7 GB, ~0.6 s) to delete 628. With the temporary
    table analyzed (a few milliseconds) it knows there is one, and goes through the (county_code, year)
    index (under 1 ms): the night costs what it changes, not what the warehouse holds. A big batch (a
    first build after many files) still gets the scan, chosen on its real size.

    Dispatched: dbt's incremental materialization asks for `get_delete_insert_merge_sql` through
    `adapter.dispatch(..., 'dbt')`, which looks in the root project first; tests/dbt checks it runs. -#}
{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- if speedups_on() %}
    analyze {{ source }};
    {%- endif %}
    {{ dbt.default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
