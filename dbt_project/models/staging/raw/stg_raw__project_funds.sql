-- Projects and their funds (扶贫项目资金公告表, the plan's 公告公示). No personal
-- data: a project names a village or a settlement, never a household.

with source as (
    select * from {{ source('raw', 'project_funds') }}
),

final as (
    select
        source.county_code,
        source.year::integer as year,
        source.project_id,
        source.project_name,
        source.project_type,
        source.village_code,
        source.fund_source,
        source.amount_allocated,
        source.amount_disbursed,
        source.beneficiary_households,
        source.announced_on,
        source.announcement_ends_on,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
