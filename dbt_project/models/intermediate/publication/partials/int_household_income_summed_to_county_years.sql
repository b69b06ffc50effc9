-- County-year partial sums of the monitored households' income and spending (fct_household_income),
-- recomputed only for the county-years whose income file, register or the fact table itself changed
-- (macros/county_partials.sql). int_metric_values_computed rolls them up; monitored_n = 0 marks a county-year
-- whose households are all outside the monitoring scope (int_metric_values_computed skips it).
-- P5's "trained at least once" looks back over the plan years up to the county-year (from 2013): the
-- earlier plan years' income files of the county are inputs too (earlier_plan_years_of_income).
{{
    config(
        pre_hook="{{ delete_stale_partials(partial_inputs(ref('fct_household_income'), ['submission_id', 'register_submission_id'], earlier_plan_years_of_income())) }}",
    )
}}

with stale as (
    {{ stale_county_years(partial_inputs(
        ref('fct_household_income'), ['submission_id', 'register_submission_id'], earlier_plan_years_of_income()
    )) }}
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
        sum(h.household_size) filter (where h.net_income is not null and h.household_size > 0)
            as income_persons,
        count(*) filter (where not h.is_dibao and h.per_capita_net_income is not null)
            as non_dibao_households,
        count(*) filter (where not h.is_dibao and h.per_capita_net_income > 8000) as non_dibao_above_8000,
        count(*) filter (where not h.is_dibao and h.per_capita_net_income >= 8000)
            as non_dibao_at_or_above_8000,
        sum(h.household_size) as monitored_persons,
        count(*) filter (where h.consumption_expenditure > 0 and h.real_edu_med_spending is not null)
            as consumption_households,
        sum(h.consumption_expenditure) filter (
            where h.consumption_expenditure > 0 and h.real_edu_med_spending is not null
        ) as consumption,
        sum(h.real_edu_med_spending) filter (
            where h.consumption_expenditure > 0 and h.real_edu_med_spending is not null
        ) as real_edu_med,
        count(*) filter (where h.labour_count > 0) as labour_households,
        sum(h.labour_count) filter (where h.labour_count > 0) as labour,
        sum(h.employed_labour) filter (where h.labour_count > 0) as employed,
        sum(h.trained_persons) filter (where h.labour_count > 0) as trained,
        count(*) filter (where h.labour_count > 0 and trained_once.household_key is not null)
            as ever_trained_households,
        max(h.vintage) as vintage
    from {{ ref('fct_household_income') }} as h
    left join (
        -- households of the county trained (trained_persons >= 1) while monitored in a plan year up to
        -- this one
        select distinct t.household_key
        from {{ ref('fct_household_income') }} as t
        where
            t.county_code = stale.county_code
            and t.year between {{ var('plan_first_year', 2013) }} and stale.year
            and t.is_monitored and t.trained_persons >= 1
    ) as trained_once on h.household_key = trained_once.household_key
    -- monitored households of the year: 在册, 新增, 脱贫 in that year's register
    where h.county_code = stale.county_code and h.year = stale.year and h.is_monitored
) as sums
