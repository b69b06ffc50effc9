-- County-year partial sums of the register (fct_household_status_change): households monitored that
-- year, recomputed only for the county-years whose register or the fact table itself changed
-- (macros/county_partials.sql). int_metric_values_computed rolls them up.
{{
    config(
        pre_hook="{{ delete_stale_partials(partial_inputs(ref('fct_household_status_change'), ['submission_id'])) }}",
    )
}}

with stale as (
    {{ stale_county_years(partial_inputs(ref('fct_household_status_change'), ['submission_id'])) }}
)

select
    stale.county_code,
    stale.year,
    stale.inputs,
    sums.*
from stale
cross join lateral (
    select
        count(*) filter (where r.status in ('在册', '新增', '脱贫')) as monitored_households,
        max(r.vintage) as vintage
    from {{ ref('fct_household_status_change') }} as r
    where r.county_code = stale.county_code and r.year = stale.year
) as sums
