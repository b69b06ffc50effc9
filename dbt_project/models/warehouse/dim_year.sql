-- Years a submission may describe (templates.yaml: 2012-2030), placed in the 2013-2017 plan.

with years as (
    select generate_series({{ var('baseline_year') }}, {{ var('last_year') }})::integer as year
),

final as (
    select
        year,
        year between {{ var('plan_first_year') }} and {{ var('plan_last_year') }} as is_plan_year,
        year = {{ var('baseline_year') }} as is_baseline,
        year - {{ var('baseline_year') }} as plan_elapsed_years
    from years
)

select * from final
