-- Household participation in assistance programmes per year (帮扶项目).
-- Incremental by vintage (macros/incremental_vintages.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['county_code', 'year'],
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['submission_id']}, {'columns': ['county_code', 'year']}],
        pre_hook="{{ delete_superseded_rows('program_participation') }}",
    )
}}

with pending as (
    {{ pending_submissions('program_participation') }}
),

participation as (
    select * from {{ ref('int_program_participation_filtered_to_current') }}
    where {{ in_submissions('submission_id', 'select submission_id from pending') }}
),

final as (
    select
        {{ surrogate_key(['household_key', 'program_code', 'year']) }} as participation_key,
        household_key,
        county_code,
        year,
        program_code,
        persons,
        program_income,
        loan_amount,
        loan_rate_pct,
        repaid_on_time,
        interest_subsidy,
        submission_id,
        vintage
    from participation
)

select * from final
