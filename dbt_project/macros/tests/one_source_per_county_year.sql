{#- Every row of a county-year carries the same value of each of `columns` (null counts as a value).
    The incremental facts are built a county-year at a time, from one file (and fct_household_income
    against one register); the incremental steps that read what a county-year was built from off its
    first row rely on it (macros/incremental_vintages.sql, macros/county_partials.sql). -#}
{% test one_source_per_county_year(model, columns) %}
    select county_code, year
    from {{ model }}
    group by county_code, year
    having
        {%- for column in columns %}
        count(distinct {{ column }}) + max(case when {{ column }} is null then 1 else 0 end) > 1
        {{- " or" if not loop.last }}
        {%- endfor %}
{% endtest %}
