{#- What a data test reads: dbt's own `where` config, and during a build of some counties' files
    (the environment variable LOWINCOME_TEST_COUNTIES, set by the warehouse DAG from its plan:
    lowincome.transform.plan; or the `test_counties` var by hand) only those counties' rows of the
    relations keyed by submission.

    A relation with both `county_code` and `submission_id` holds rows that come from one county's
    file each (staging views, incremental facts); a build that brings files of counties A and B can
    change no other county's rows there, and those rows passed the same tests when their own files
    came in. Rows without a county are always read, so `not_null` on `county_code` still fails.
    Any other relation (dimensions rebuilt whole, relations without those columns) is read whole, and
    so is everything when the value is `*` (the default: plain `dbt build`, a build of everything).

    The DAG passes the counties in the environment, read only while executing: dbt re-parses the whole
    project whenever its --vars differ from the last run's (a few seconds per task), and it tracks an
    environment variable only when parsing reads it. -#}
{% macro get_where_subquery(relation) -%}
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
            {%- do filters.append('(county_code is null' ~ (' or county_code in (' ~ codes | join(', ') ~ ')' if codes else '') ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
