-- The rows of county_indicators (县级扶贫指标表) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__county_indicators') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'county_indicators'
),

final as (
    select
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.rural_per_capita_net_income,
        rows_of_files.dibao_standard,
        rows_of_files.dibao_min_topup,
        rows_of_files.tech_demo_industries,
        rows_of_files.processing_workers,
        rows_of_files.processing_fees,
        rows_of_files.new_mutual_aid_funds,
        rows_of_files.microcredit_guarantee_fund,
        rows_of_files.microcredit_loans_outstanding,
        rows_of_files.housing_need_households,
        rows_of_files.housing_aided_households,
        rows_of_files.rural_road_km,
        rows_of_files.village_bus_access_pct,
        rows_of_files.water_safety_people,
        rows_of_files.rural_edu_med_share_pct,
        rows_of_files.mutual_aid_funds_total,
        rows_of_files.urban_per_capita_disposable_income,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
