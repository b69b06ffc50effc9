-- County-year partial sums of the monitored households' income and spending (fct_household_income),
-- recomputed only for the county-years whose income file, register or the fact table itself changed
-- (macros/county_partials.sql). metric_values rolls them up; monitored_n = 0 marks a county-year
-- whose households are all outside the monitoring scope (metric_values skips it).
{{
    config(
        pre_hook="{{ delete_stale_partials(partial_inputs(ref('fct_household_income'), ['submission_id', 'register_submission_id'])) }}",
    )
}}

with stale as (
    {{ stale_county_years(partial_inputs(ref('fct_household_income'), ['submission_id', 'register_submission_id'])) }}
)

select
    stale.county_code,
    stale.year,
    stale.inputs,
    sums.*
from stale
cross join lateral (
    select
        count(*) as monitored_n,
        count(*) filter (where h.net_income is not null and h.household_size > 0) as income_households,
        sum(h.net_income) filter (where h.net_income is not null and h.household_size > 0) as net_income,
        sum(h.household_size) filter (where h.net_income is not null and h.household_size > 0) as income_persons,
        count(*) filter (where not h.is_dibao and h.per_capita_net_income is not null) as non_dibao_households,
        count(*) filter (where not h.is_dibao and h.per_capita_net_income > 8000) as non_dibao_above_8000,
        count(*) filter (where h.consumption_expenditure > 0 and h.real_edu_med_spending is not null)
            as consumption_households,
        sum(h.consumption_expenditure) filter (
            where h.consumption_expenditure > 0 and h.real_edu_med_spending is not null) as consumption,
        sum(h.real_edu_med_spending) filter (
            where h.consumption_expenditure > 0 and h.real_edu_med_spending is not null) as real_edu_med,
        count(*) filter (where h.labour_count > 0) as labour_households,
        sum(h.labour_count) filter (where h.labour_count > 0) as labour,
        sum(h.employed_labour) filter (where h.labour_count > 0) as employed,
        sum(h.trained_persons) filter (where h.labour_count > 0) as trained,
        max(h.vintage) as vintage
    from {{ ref('fct_household_income') }} as h
    -- monitored households of the year: 在册, 新增, 脱贫 in that year's register
    where h.county_code = stale.county_code and h.year = stale.year and h.is_monitored
) as sums
