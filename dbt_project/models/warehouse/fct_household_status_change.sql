-- The lifecycle trail of each household (进入, 脱贫, 退出, 重新进入, 返贫): one row per household and
-- register year, comparing the year's status with the household's previous register appearance.
-- Incremental by vintage: a register loaded or corrected for year Y of a county can change that county's
-- rows of Y and later, so the pre-hook deletes them (macros/incremental_vintages.sql) and they are rebuilt
-- from the county's whole history.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['county_code', 'year'],
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['submission_id']}, {'columns': ['county_code', 'year']}],
        pre_hook="{{ delete_register_years_from_first_change() }}",
    )
}}

with pending as (
    {{ pending_submissions('households') }}
),

pending_county_years as (
    select
        county_code,
        year
    from {{ ref('stg_ops__submissions') }}
    where submission_id in (select pending.submission_id from pending)
),

register as (
    select * from {{ ref('int_households_filtered_to_current') }}
    {%- if is_incremental() %}
    -- the current registers of those counties (a row's county is its file's: county_matches_file),
    -- reached through the submission index: a filter on county_code read every county's register
    -- (5.6 million rows on five years, ~3.8 s) to rebuild one county
    where submission_id = any(array(
        select submission_id from {{ ref('int_submissions_filtered_to_current') }}
        where template = 'households'
            and county_code in (select county_code from pending_county_years)))
    {%- else %}
    where county_code in (select pending_county_years.county_code from pending_county_years)
    {%- endif %}
),

history as (
    select
        household_key,
        county_code,
        year,
        status,
        lag(year) over by_year as previous_year,
        lag(status) over by_year as previous_status,
        submission_id,
        vintage
    from register
    window by_year as (partition by household_key order by year)
),

final as (
    select
        {{ surrogate_key(['household_key', 'year']) }} as status_change_key,
        household_key,
        county_code,
        year,
        previous_year,
        previous_status,
        status,
        case
            when previous_status is null and status = '退出' then 'removed'
            when previous_status is null then 'entered'
            when previous_status = '退出' and status <> '退出' then 're_entered'
            when status = '退出' then 'removed'
            when previous_status = '脱贫' and status in ('在册', '新增') then 'returned_to_poverty'
            when status = '脱贫' and previous_status in ('在册', '新增') then 'lifted_out'
            else 'unchanged'
        end as change_type,
        submission_id,
        vintage
    from history
    where (county_code, year) in (
        select
            pending_county_years.county_code,
            pending_county_years.year
        from pending_county_years
    )
)

select * from final
