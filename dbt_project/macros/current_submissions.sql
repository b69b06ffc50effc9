{#- The one rule for "which file counts": per county, template and year, the latest submission still
    loaded (ingestion marks the one it replaces 'superseded'; ranking by received_at also covers two
    'loaded' rows should that ever happen). Returns submission_id, county_code, year, vintage. -#}
{% macro current_submissions(template=none) %}
    select submission_id, county_code, template, year, vintage
    from (
        select
            id as submission_id,
            county_code,
            template,
            year::integer as year,
            received_at as vintage,
            row_number() over (
                partition by county_code, template, year order by received_at desc, id desc
            ) as recency
        from {{ source('ops', 'submissions') }}
        where status = 'loaded'
        {%- if template is not none %}
            and template = '{{ template }}'
        {%- endif %}
    ) as ranked
    where recency = 1
{% endmacro %}
