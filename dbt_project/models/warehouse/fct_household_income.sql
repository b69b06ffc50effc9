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
    select * from {{ ref('stg_raw__household_income') }}
    where submission_id in (select submission_id from pending)
),

register as (
    select * from {{ ref('stg_raw__households') }}
),

register_submissions as (
    select county_code, year, submission_id
    from {{ ref('stg_ops__submissions') }}
    where is_current and template = 'households'
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
        on register.household_key = income.household_key and register.year = income.year
    left join register_submissions
        on register_submissions.county_code = income.county_code and register_submissions.year = income.year
)

select * from final
