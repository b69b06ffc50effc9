{#- The one rule for "which file counts": per county, template and year, the latest submission still
    loaded (ingestion marks the one it replaces 'superseded'; ranking by received_at also covers two
    'loaded' rows should that ever happen). Returns submission_id, county_code, template, year, vintage.

    DISTINCT ON, not `row_number() over (...) = 1`: PostgreSQL estimates a filter on a window function's
    result at one row whatever the ledger holds, and the models joining these submissions to their rows
    then ran nested loops quadratic in the rows (a first night of three years of the province:
    fct_household_income 23 minutes). DISTINCT ON on the ledger's own columns is estimated from their
    statistics (the number of county-template-year groups); macros/statistics.sql keeps them current. -#}
{% macro current_submissions(template=none) %}
    select distinct on (submissions.county_code, submissions.template, submissions.year)
        submissions.id as submission_id,
        submissions.county_code,
        submissions.template,
        submissions.year::integer as year,
        submissions.received_at as vintage
    from {{ source('ops', 'submissions') }} as submissions
    where submissions.status = 'loaded'
    {%- if template is not none %}
        and submissions.template = '{{ template }}'
    {%- endif %}
    order by submissions.county_code, submissions.template, submissions.year,
        submissions.received_at desc, submissions.id desc
{% endmacro %}
