{#- Fresh planner statistics on the sources a staging model reads, before anything is built on them
    (the staging layer's pre-hook, dbt_project.yml).

    A night loads its files and the build starts at once: autovacuum analyses a table within a minute
    or so of a bulk load, too late for the build that follows. The loader analyses only what its own
    queries need, and only after a big file; a first night of many small files (three years of the
    province at scale 0.02: 1,533 files of ~110 rows) left raw and the ledger with no statistics at
    all, PostgreSQL took each for a few rows and chose nested loops (fct_household_income 23 minutes).

    A source is analysed when it was never analysed, or has changed since by more than autovacuum's
    own threshold (50 rows + 10%), or has grown by 10% in pages (its change counters can lag behind
    the connection that wrote): what autovacuum would do next, done before the build reads. A night
    that changed little analyses nothing (a catalog query). A source the build's login does not own is
    skipped by PostgreSQL with a warning, never an error. -#}
{% macro analyze_stale_sources() %}
    {%- set relations = [] -%}
    {%- for pair in model.sources -%}
        {%- do relations.append(source(pair[0], pair[1]).include(database=false)) -%}
    {%- endfor -%}
    {%- if relations %}
    do $analyze$
    declare
        stale regclass;
    begin
        for stale in
            select c.oid::regclass
            from pg_class as c
            left join pg_stat_user_tables as s on s.relid = c.oid
            where c.oid = any(array[
                {%- for relation in relations %}'{{ relation }}'::regclass{{ ", " if not loop.last }}{% endfor -%}
            ])
                and (
                    c.reltuples < 0
                    or coalesce(s.n_mod_since_analyze, 0) > 50 + 0.1 * c.reltuples
                    or pg_relation_size(c.oid) > 1.1 * c.relpages * current_setting('block_size')::bigint
                )
        loop
            execute format('analyze %s', stale);
        end loop;
    end
    $analyze$
    {%- endif %}
{% endmacro %}
