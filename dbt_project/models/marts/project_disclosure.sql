-- Fund and project disclosure (公告公示), per county, year and project: what the plan requires to be made
-- public (项目安排、资金分配) - the project with its village, type and source of funds, the money allocated
-- and disbursed, the disbursement rate - and two flags:
--   not_announced: no announcement date (公示日期) was reported;
--   disbursed_before_announcement_ended: money went out while the announcement period had not ended.
--     The file states the year at 31 December (一年一报, 数据截至当年12月31日) and carries no payment
--     date, so what is certain is that the money counted as disbursed had left by 31 December: the flag
--     is raised when some money was disbursed (已拨付资金 > 0) and the project was not announced at all,
--     or its announcement period ended after 31 December of the year (公示期满日期, or the announcement
--     date when no end is given). A period ending on or before 31 December is not flagged: the payments
--     may have followed it.
-- Public by design: no personal data (a project names a village or a settlement, never a household) and
-- no figure computed from households, so nothing here is suppressed.

with projects as (
    select * from {{ ref('fct_project_fund') }}
),

counties as (
    select * from {{ ref('dim_county') }}
),

villages as (
    select
        village_code,
        year,
        village_name
    from {{ ref('dim_village') }}
),

final as (
    select
        p.county_code::text as county_code,
        c.county_name::text as county_name,
        c.city_code::text as city_code,
        p.year::integer as year,
        p.project_id::text as project_id,
        p.project_name::text as project_name,
        p.project_type::text as project_type,
        p.village_code::text as village_code,
        v.village_name::text as village_name,
        p.fund_source::text as fund_source,
        p.amount_allocated::numeric(16, 2) as amount_allocated,
        p.amount_disbursed::numeric(16, 2) as amount_disbursed,
        (round(100 * p.amount_disbursed / nullif(p.amount_allocated, 0), 1))::numeric(5, 1)
            as disbursement_rate_pct,
        p.beneficiary_households::integer as beneficiary_households,
        p.announced_on::date as announced_on,
        p.announcement_ends_on::date as announcement_ends_on,
        (p.announced_on is null)::boolean as not_announced,
        (p.amount_disbursed > 0 and (
            p.announced_on is null
            or coalesce(p.announcement_ends_on, p.announced_on) > make_date(p.year, 12, 31)
        ))::boolean as disbursed_before_announcement_ended,
        p.vintage::timestamptz as vintage
    from projects as p
    left join counties as c on p.county_code = c.county_code
    left join villages as v on p.village_code = v.village_code and p.year = v.year
)

select * from final
