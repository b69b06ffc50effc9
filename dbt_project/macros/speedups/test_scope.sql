{#- lowincome.speedups (dbt's own get_where_subquery when off): what a data test reads: dbt's own `where` config, and during a build of some counties' files
    (the environment variable LOWINCOME_TEST_COUNTIES, set by the warehouse DAG from its plan:
    lowincome.transform.plan; or the `test_counties` var by hand) only the rows of those counties'
    files in the relations keyed by submission.

    A relation with both `county_code` and `submission_id` holds rows that come from one county's
    file each (staging views, incremental facts; a row whose county is not its file's is rejected:
    county_matches_file in include/config/validation.yaml); a build that brings files of counties A and B can change no other file's rows there, and
    those rows passed the same tests when their own files came in. So the test reads the rows whose
    submission is one of those counties' files (any status: a superseded file's rows are gone from
    these relations anyway). The filter is `submission_id = any(array(<those ids>))`: evaluated once,
    it lets PostgreSQL reach the rows through the submission index of the raw table or fact (a
    county filter read every row of every year: ~1.8 s per test on five years of the province,
    against ~5 ms). Any other relation (dimensions rebuilt whole, relations without those columns) is
    read whole, and so is everything when the value is `*` (the default: plain `dbt build`, a build
    of everything).

    The DAG passes the counties in the environment, read only while executing: dbt re-parses the whole
    project whenever its --vars differ from the last run's (a few seconds per task), and it tracks an
    environment variable only when parsing reads it. -#}
{% macro get_where_subquery(relation) -%}
    {%- if not speedups_on() -%}
        {{ return(dbt.default__get_where_subquery(relation)) }}
    {%- endif -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set counties = (var('test_counties', env_var('LOWINCOME_TEST_COUNTIES', '*')) if execute else '*') | string -%}
    {%- if counties != '*' -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- if 'county_code' in columns and 'submission_id' in columns -%}
            {%- set codes = [] -%}
            {%- for code in counties.split(',') if code | length == 6 and code.isdigit() -%}
                {%- do codes.append("'" ~ code ~ "'") -%}
            {%- endfor -%}
            {%- set ledger = api.Relation.create(database=target.database, schema='ops', identifier='submissions') -%}
            {%- do filters.append('submission_id = any(array(select id from ' ~ ledger ~ ' where county_code in ('
                                  ~ (codes | join(', ') if codes else 'null') ~ ')))') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
