{#- Incremental facts keyed by vintage.

    Every row of a fact carries the submission_id of the file it came from, and all rows of one
    county-year come from one submission. An incremental run therefore
      1. deletes (pre-hook) the rows whose submission is no longer current - a resubmission superseded
         them - so a corrected county-year loses its old rows even when the new file has fewer rows
         or none at all;
      2. selects only the rows of current submissions that have no rows in the table yet.
    One resubmission thus touches its own county-year only, and the result equals a full refresh. -#}

{% macro delete_superseded_rows(template) %}
    {%- if is_incremental() %}
    -- The table's submissions, found one index probe each (a loose scan of the submission index,
    -- macros/loose_index_scan.sql: a few hundred probes, where `submission_id not in (current)` read
    -- every row of every year); the rows of those no longer current are reached through the same index
    -- (`= any(array(...))`).
    delete from {{ this }}
    where submission_id = any(array(
        select present.submission_id
        from ({{ distinct_keys(this, ['submission_id']) }}) as present
        where present.submission_id not in (
            select submission_id from {{ ref('int_submissions_filtered_to_current') }}
            where template = '{{ template }}'
        )
    ))
    {%- endif %}
{% endmacro %}

{#- `column` is one of the submission ids the query `ids` returns. In an incremental run as
    `= any(array(ids))`: the few pending ids are read once, and the rows of the current files
    (int_<template>_filtered_to_current, a view over staging and raw) are reached through the raw
    table's submission index. With `in (ids)` the planner, which cannot estimate the
    view of current submissions, read every current row of the template first and semi-joined them
    with the pending ids (fct_household_income on five years: 3.1 s with nothing pending, 16 ms with
    the array). A full build reads every row either way and keeps its plan. -#}
{% macro in_submissions(column, ids) -%}
    {%- if is_incremental() -%}
        {{ column }} = any(array({{ ids }}))
    {%- else -%}
        {{ column }} in ({{ ids }})
    {%- endif -%}
{%- endmacro %}

{#- The current submissions of a template whose rows are not in this table (all of them on a full build). -#}
{% macro pending_submissions(template) %}
    select submission_id
    from {{ ref('int_submissions_filtered_to_current') }} as submissions
    where submissions.template = '{{ template }}'
    {%- if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as loaded where loaded.submission_id = submissions.submission_id
        )
    {%- endif %}
{% endmacro %}

{#- fct_household_income: rows whose county-year register changed (resubmitted, or first loaded) since
    they were built carry a stale status; delete them so the run rebuilds them. A county-year is built
    in one statement from one income file against one register (tested: one_source_per_county_year), so
    what it was built from is read from its first row, one probe of the (county_code, year) index per
    county-year (fact_county_years, macros/county_partials.sql), and its rows are reached through the
    submission index; `select distinct` over the table read every row of every year. -#}
{% macro delete_rows_of_changed_registers() %}
    {%- if is_incremental() %}
    delete from {{ this }}
    where submission_id = any(array(
        select built.submission_id
        from ({{ fact_county_years(this, ['submission_id', 'register_submission_id']) }}) as built
        left join (
            select county_code, year, submission_id from {{ ref('int_submissions_filtered_to_current') }}
            where template = 'households'
        ) as registers
            on registers.county_code = built.county_code and registers.year = built.year
        where built.register_submission_id is distinct from registers.submission_id
    ))
    {%- endif %}
{% endmacro %}

{#- fct_household_status_change: a register loaded or corrected for year Y of a county changes the
    "previous status" of that county's later years too; delete the county's rows from the first such
    year on (they are all rebuilt, being then absent). -#}
{% macro delete_register_years_from_first_change() %}
    {%- if is_incremental() %}
    with registers as (
        select county_code, year, submission_id from {{ ref('int_submissions_filtered_to_current') }}
        where template = 'households'
    ),
    built as (
        -- one submission per county-year (one_source_per_county_year): read from its first row
        {{ fact_county_years(this, ['submission_id']) }}
    ),
    changed as (
        select county_code, year from registers
        where submission_id not in (select submission_id from built)
        union all
        select county_code, year from built
        where submission_id not in (select submission_id from registers)
    ),
    first_change as (
        select county_code, min(year) as year from changed group by county_code
    )
    -- the rows of those county-years, through the submission index
    delete from {{ this }}
    where submission_id = any(array(
        select built.submission_id
        from built
        inner join first_change
            on first_change.county_code = built.county_code and built.year >= first_change.year
    ))
    {%- endif %}
{% endmacro %}
