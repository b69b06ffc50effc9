-- County-year partial sums of programme participation (fct_program_participation), with the loans'
-- rates judged against the province's benchmark rate of the year (fct_province_indicator); recomputed
-- only for the county-years whose participation file, the year's province figures or the fact table
-- itself changed (macros/county_partials.sql). int_metric_values_computed rolls them up.
-- P3 counts the agritourism households living in a key village that year (the plan: 扶贫重点村农家乐经营户):
-- the household's village of the year (dim_household) and the year's village list (fct_village_economy)
-- are read too, and the county-year's register and village submissions are inputs.
{{
    config(
        pre_hook="{{ delete_stale_partials(partial_inputs(ref('fct_program_participation'), ['submission_id'], participation_extra_inputs())) }}",
    )
}}

with stale as (
    {{ stale_county_years(partial_inputs(
        ref('fct_program_participation'), ['submission_id'], participation_extra_inputs()
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
        count(*) filter (where p.program_code = 'agritourism' and p.program_income is not null)
            as agritourism_households,
        sum(p.program_income) filter (where p.program_code = 'agritourism' and p.program_income is not null)
            as agritourism_income,
        count(*) filter (
            where p.program_code = 'agritourism' and p.program_income is not null and kv.is_key_village
        )
            as key_village_agritourism_households,
        sum(p.program_income) filter (
            where p.program_code = 'agritourism' and p.program_income is not null and kv.is_key_village)
            as key_village_agritourism_income,
        count(
            *) filter (
            where p.program_code = 'microcredit' and p.loan_rate_pct is not null
            and pi.benchmark_rate_pct is not null
        ) as rated_loans,
        count(
            *) filter (
            where p.program_code = 'microcredit'
            and p.loan_rate_pct <= 1.4 * pi.benchmark_rate_pct
        ) as compliant_loans,
        count(*) filter (where p.program_code = 'microcredit' and p.repaid_on_time) as on_time_loans,
        count(*) filter (where p.program_code = 'microcredit' and p.repaid_on_time and p.interest_subsidy > 0)
            as subsidised_on_time_loans,
        count(*) filter (where p.program_code = 'training') as training_households,
        sum(p.persons) filter (where p.program_code = 'training') as training_persons,
        count(*) filter (where p.program_code = 'processing') as processing_households,
        sum(p.persons) filter (where p.program_code = 'processing') as processing_persons,
        sum(p.program_income) filter (where p.program_code = 'processing') as processing_income,
        count(*) filter (where p.program_code = 'household_industry') as household_industry_households,
        sum(p.persons) filter (where p.program_code = 'household_industry') as household_industry_persons,
        sum(p.program_income) filter (where p.program_code = 'household_industry')
            as household_industry_income,
        count(*) filter (where p.program_code = 'employment') as employment_households,
        sum(p.persons) filter (where p.program_code = 'employment') as employment_persons,
        sum(p.program_income) filter (where p.program_code = 'employment') as employment_income,
        count(*) filter (where p.program_code = 'public_welfare_job') as public_welfare_job_households,
        sum(p.persons) filter (where p.program_code = 'public_welfare_job') as public_welfare_job_persons,
        sum(p.program_income) filter (where p.program_code = 'public_welfare_job')
            as public_welfare_job_income,
        max(p.vintage) as vintage,
        max(pi.vintage) as benchmark_vintage
    from {{ ref('fct_program_participation') }} as p
    left join {{ ref('fct_province_indicator') }} as pi on p.year = pi.year
    left join lateral (
        -- the agritourism household's village that year, and whether it was a key village
        select bool_or(v.is_key_village) as is_key_village
        from {{ ref('dim_household') }} as d
        inner join {{ ref('fct_village_economy') }} as v
            on d.village_code = v.village_code and p.year = v.year and p.county_code = v.county_code
        where
            p.program_code = 'agritourism' and d.household_key = p.household_key
            and d.valid_from_year <= p.year and (d.valid_to_year is null or d.valid_to_year >= p.year)
    ) as kv on true
    where p.county_code = stale.county_code and p.year = stale.year
) as sums
