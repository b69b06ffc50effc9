-- Projects funded under the plan and their money per year (扶贫项目资金, the plan's 公告公示).
-- Incremental by vintage (macros/incremental_vintages.sql): a resubmission rebuilds its county-year only.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['county_code', 'year'],
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['submission_id']}, {'columns': ['county_code', 'year']}],
        pre_hook="{{ delete_superseded_rows('project_funds') }}",
    )
}}

with pending as (
    {{ pending_submissions('project_funds') }}
),

projects as (
    select * from {{ ref('int_project_funds_filtered_to_current') }}
    where {{ in_submissions('submission_id', 'select submission_id from pending') }}
),

final as (
    select
        {{ surrogate_key(['county_code', 'year', 'project_id']) }} as project_fund_key,
        county_code,
        year,
        project_id,
        trim(project_name) as project_name,
        project_type,
        village_code,
        fund_source,
        amount_allocated,
        amount_disbursed,
        beneficiary_households,
        announced_on,
        announcement_ends_on,
        submission_id,
        vintage
    from projects
)

select * from final
