-- County-level indicators (县级扶贫指标表), one row per county and year of each file.

with source as (
    select * from {{ source('raw', 'county_indicators') }}
),

final as (
    select
        source.county_code,
        source.year::integer as year,
        source.rural_per_capita_net_income,
        source.dibao_standard,
        source.dibao_min_topup,
        source.tech_demo_industries,
        source.processing_workers,
        source.processing_fees,
        source.new_mutual_aid_funds,
        source.microcredit_guarantee_fund,
        source.microcredit_loans_outstanding,
        source.housing_need_households,
        source.housing_aided_households,
        source.rural_road_km,
        source.village_bus_access_pct,
        source.water_safety_people,
        source.rural_edu_med_share_pct,
        source.mutual_aid_funds_total,
        source.urban_per_capita_disposable_income,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
