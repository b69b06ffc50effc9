-- County-level indicators per year (县级扶贫指标), one row per county and year.

with indicators as (
    select * from {{ ref('int_county_indicators_filtered_to_current') }}
),

final as (
    select
        {{ surrogate_key(['county_code', 'year']) }} as county_year_key,
        county_code,
        year,
        rural_per_capita_net_income,
        dibao_standard,
        dibao_min_topup,
        tech_demo_industries,
        processing_workers,
        processing_fees,
        new_mutual_aid_funds,
        microcredit_guarantee_fund,
        microcredit_loans_outstanding,
        housing_need_households,
        housing_aided_households,
        rural_road_km,
        village_bus_access_pct,
        water_safety_people,
        rural_edu_med_share_pct,
        mutual_aid_funds_total,
        urban_per_capita_disposable_income,
        submission_id,
        vintage
    from indicators
)

select * from final
