-- County-year partial sums of programme participation (fct_program_participation), with the loans'
-- rates judged against the province's benchmark rate of the year (fct_province_indicator); recomputed
-- only for the county-years whose participation file, the year's province figures or the fact table
-- itself changed (macros/county_partials.sql). metric_values rolls them up.
{{
    config(
        pre_hook="{{ delete_stale_partials(partial_inputs(ref('fct_program_participation'), ['submission_id'], province_figures_of_year())) }}",
    )
}}

with stale as (
    {{ stale_county_years(partial_inputs(ref('fct_program_participation'), ['submission_id'], province_figures_of_year())) }}
)

select
    stale.county_code,
    stale.year,
    stale.inputs,
    sums.*
from stale
cross join lateral (
    select
        count(*) filter (where p.program_code = 'agritourism' and p.program_income is not null)
            as agritourism_households,
        sum(p.program_income) filter (where p.program_code = 'agritourism' and p.program_income is not null)
            as agritourism_income,
        count(*) filter (where p.program_code = 'microcredit' and p.loan_rate_pct is not null
                           and pi.benchmark_rate_pct is not null) as rated_loans,
        count(*) filter (where p.program_code = 'microcredit'
                           and p.loan_rate_pct <= 1.4 * pi.benchmark_rate_pct) as compliant_loans,
        count(*) filter (where p.program_code = 'microcredit' and p.repaid_on_time) as on_time_loans,
        count(*) filter (where p.program_code = 'microcredit' and p.repaid_on_time and p.interest_subsidy > 0)
            as subsidised_on_time_loans,
        count(*) filter (where p.program_code = 'training') as training_households,
        sum(p.persons) filter (where p.program_code = 'training') as training_persons,
        count(*) filter (where p.program_code = 'processing') as processing_households,
        sum(p.persons) filter (where p.program_code = 'processing') as processing_persons,
        sum(p.program_income) filter (where p.program_code = 'processing') as processing_income,
        max(p.vintage) as vintage,
        max(pi.vintage) as benchmark_vintage
    from {{ ref('fct_program_participation') }} as p
    left join {{ ref('fct_province_indicator') }} as pi on pi.year = p.year
    where p.county_code = stale.county_code and p.year = stale.year
) as sums
