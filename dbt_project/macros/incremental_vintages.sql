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
    delete from {{ this }}
    where submission_id not in (
        select submission_id from {{ ref('stg_ops__submissions') }}
        where is_current and template = '{{ template }}'
    )
    {%- endif %}
{% endmacro %}

{#- The current submissions of a template whose rows are not in this table (all of them on a full build). -#}
{% macro pending_submissions(template) %}
    select submission_id
    from {{ ref('stg_ops__submissions') }} as submissions
    where submissions.is_current
        and submissions.template = '{{ template }}'
    {%- if is_incremental() %}
        and not exists (
            select 1 from {{ this }} as loaded where loaded.submission_id = submissions.submission_id
        )
    {%- endif %}
{% endmacro %}

{#- fct_household_income: rows whose county-year register changed (resubmitted, or first loaded) since
    they were built carry a stale status; delete them so the run rebuilds them. -#}
{% macro delete_rows_of_changed_registers() %}
    {%- if is_incremental() %}
    delete from {{ this }}
    where (county_code, year) in (
        select built.county_code, built.year
        from (select distinct county_code, year, register_submission_id from {{ this }}) as built
        left join (
            select county_code, year, submission_id from {{ ref('stg_ops__submissions') }}
            where is_current and template = 'households'
        ) as registers
            on registers.county_code = built.county_code and registers.year = built.year
        where built.register_submission_id is distinct from registers.submission_id
    )
    {%- endif %}
{% endmacro %}

{#- fct_household_status_change: a register loaded or corrected for year Y of a county changes the
    "previous status" of that county's later years too; delete the county's rows from the first such
    year on (they are all rebuilt, being then absent). -#}
{% macro delete_register_years_from_first_change() %}
    {%- if is_incremental() %}
    with registers as (
        select county_code, year, submission_id from {{ ref('stg_ops__submissions') }}
        where is_current and template = 'households'
    ),
    built as (
        select distinct county_code, year, submission_id from {{ this }}
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
    delete from {{ this }} as trail
    using first_change
    where trail.county_code = first_change.county_code and trail.year >= first_change.year
    {%- endif %}
{% endmacro %}
