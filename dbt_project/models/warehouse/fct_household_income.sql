-- Household income and spending per year, with that year's register status (monitoring scope).
-- Incremental by vintage (macros/incremental_vintages.sql); a row also depends on its county-year's
-- register, so rows whose register was resubmitted since are rebuilt as well.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['county_code', 'year'],
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['submission_id']}, {'columns': ['county_code', 'year']}],
        pre_hook=[
            "{{ delete_superseded_rows('household_income') }}",
            "{{ delete_rows_of_changed_registers() }}",
        ],
    )
}}

with pending as (
    {{ pending_submissions('household_income') }}
),

income as (
    select * from {{ ref('int_household_income_filtered_to_current') }}
    where {{ in_submissions('submission_id', 'select submission_id from pending') }}
),

register_submissions as (
    select
        county_code,
        year,
        submission_id
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'households'
),

register as (
    {%- if is_incremental() %}
    -- Only the registers of the county-years being built: a household's key is keyed on its county, so
    -- no match is lost. Read one register submission at a time (the lateral subquery, kept apart by
    -- OFFSET 0, reaches raw.households through its submission index): the planner, which cannot
    -- estimate the view's current submissions, otherwise read every county's every year (5.6 million
    -- rows, ~2.5 s) to build one county-year. A full build needs them all, and scans them once.
    select register.*
    from (select distinct county_code, year from income) as built
    inner join register_submissions
        on register_submissions.county_code = built.county_code and register_submissions.year = built.year
    cross join lateral (
        select * from {{ ref('int_households_filtered_to_current') }} as households
        where households.submission_id = register_submissions.submission_id
        offset 0
    ) as register
    {%- else %}
    select * from {{ ref('int_households_filtered_to_current') }}
    {%- endif %}
),

final as (
    select
        {{ surrogate_key(['income.household_key', 'income.year']) }} as income_key,
        income.household_key,
        income.county_code,
        income.year,
        register.status,
        register.is_dibao,
        coalesce(register.status in ('在册', '新增', '脱贫'), false) as is_monitored,
        income.household_size,
        register.labour_count,
        income.wage_income,
        income.business_income,
        income.property_income,
        income.transfer_income,
        income.net_income,
        income.per_capita_net_income,
        income.consumption_expenditure,
        income.education_expenditure,
        income.medical_expenditure,
        income.education_aid,
        income.medical_aid,
        income.education_expenditure + income.medical_expenditure
        - income.education_aid - income.medical_aid as real_edu_med_spending,
        income.employed_labour,
        income.trained_persons,
        income.submission_id,
        income.vintage,
        register_submissions.submission_id as register_submission_id
    from income
    left join register
        on income.household_key = register.household_key and income.year = register.year
    left join register_submissions
        on income.county_code = register_submissions.county_code and income.year = register_submissions.year
)

select * from final
