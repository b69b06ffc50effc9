{#- County-year partial sums of the large facts, kept up to date incrementally (models/intermediate/publication/
    partials/). The marts' figures roll up from county-year partial sums (int_metric_values_computed); summing
    the facts again at every publication cost a scan of every row of every year, so each partial is
    kept in a table and recomputed only for the county-years whose inputs changed.

    A county-year's inputs are named by `inputs`, a text of
      * the fact's submission ids for that county-year (every row of a county-year of an incremental fact
        comes from one submission, and fct_household_income's rows from one register as well:
        macros/incremental_vintages.sql; the data test one_source_per_county_year checks it), read
        from the first row of the county-year;
      * any extra input the partial reads (say the province's benchmark rate of the year);
      * the fact table's oid, which changes when dbt rebuilds the fact from scratch (--full-refresh);
      * an md5 of the partial model's own code, so a changed formula recomputes every county-year.
    A publication deletes the partials whose inputs differ (or whose county-year left the fact: the
    pre-hook) and computes the county-years that have no partial (the model), so the result equals a
    full refresh and the cost follows the number of changed county-years, not the history. -#}

{#- Each distinct (county_code, year) of a fact with `columns` of its first row, read through the fact's
    (county_code, year) index (macros/loose_index_scan.sql: ~450 probes for five years of the province,
    instead of reading millions of rows to find them). -#}
{% macro fact_county_years(fact, columns) %}
    {{ distinct_keys(fact, ['county_code', 'year'], columns) }}
{% endmacro %}

{#- (county_code, year, inputs) of every county-year of `fact`; `extra` is a SQL expression over the
    key's columns (aliased `keys`) naming any further input. -#}
{% macro partial_inputs(fact, columns, extra=none) %}
    select
        keys.county_code,
        keys.year,
        concat_ws(' | ',
            {%- for column in columns %}
            '{{ column }} ' || coalesce(keys.{{ column }}::text, '-'),
            {%- endfor %}
            {%- if extra %}
            coalesce(({{ extra }})::text, '-'),
            {%- endif %}
            'relation ' || '{{ fact }}'::regclass::oid::text,
            'code {{ local_md5(model.raw_code) }}'
        ) as inputs
    from ({{ fact_county_years(fact, columns) }}) as keys
{% endmacro %}

{#- Pre-hook: delete the partials whose county-year's inputs changed or left the fact. -#}
{% macro delete_stale_partials(inputs_sql) %}
    {%- if is_incremental() %}
    delete from {{ this }} as partial
    where not exists (
        select 1 from ({{ inputs_sql }}) as current_inputs
        where current_inputs.county_code = partial.county_code
            and current_inputs.year = partial.year
            and current_inputs.inputs = partial.inputs
    )
    {%- endif %}
{% endmacro %}

{#- The county-years to compute: all of them on a full build, else those without a partial. -#}
{% macro stale_county_years(inputs_sql) %}
    select * from ({{ inputs_sql }}) as current_inputs
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as partial
        where partial.county_code = current_inputs.county_code and partial.year = current_inputs.year
    )
    {%- endif %}
{% endmacro %}

{#- int_program_participation_summed_to_county_years judges loan rates against the province's benchmark rate of the year: the
    province figures' submission of that year is one of its inputs. -#}
{% macro province_figures_of_year() %}
    select string_agg(pi.submission_id::text, ',' order by pi.submission_id)
    from {{ ref('fct_province_indicator') }} as pi
    where pi.year = keys.year
{% endmacro %}

{#- int_household_income_summed_to_county_years' "trained at least once" (P5) reads the county's earlier plan years: their income
    submissions and registers are inputs of the county-year, one index probe per earlier year. -#}
{% macro earlier_plan_years_of_income() %}
    select string_agg(earlier.submissions, ',' order by earlier.year)
    from generate_series({{ var('plan_first_year', 2013) }}, keys.year - 1) as earlier_year (year)
    cross join lateral (
        select earlier_year.year, h.submission_id::text || '/' || coalesce(h.register_submission_id::text, '-')
            as submissions
        from {{ ref('fct_household_income') }} as h
        where h.county_code = keys.county_code and h.year = earlier_year.year
        limit 1
    ) as earlier
{% endmacro %}

{#- int_program_participation_summed_to_county_years' key-village agritourism (P3) reads where each household lived that year
    (dim_household, whose village of a year is that year's register's) and which villages were key
    villages (fct_village_economy): the county-year's register and village submissions are inputs too. -#}
{% macro registers_and_villages_of_county_year() %}
    select concat_ws(',',
        (select 'households ' || h.register_submission_id::text from {{ ref('fct_household_income') }} as h
         where h.county_code = keys.county_code and h.year = keys.year limit 1),
        (select 'villages ' || v.submission_id::text from {{ ref('fct_village_economy') }} as v
         where v.county_code = keys.county_code and v.year = keys.year limit 1))
{% endmacro %}

{#- int_program_participation_summed_to_county_years' further inputs: the province figures of the year and the county-year's
    register and village submissions. -#}
{% macro participation_extra_inputs() %}
    select concat_ws(' | ', ({{ province_figures_of_year() }}), ({{ registers_and_villages_of_county_year() }}))
{% endmacro %}
