-- Social assistance (社会救助) per geography and year: the rural 低保 standard and minimum top-up
-- (T4), housing assistance coverage (T6), the real education and medical spending share of
-- low-income households against the local rural average (T5) and their employment rate (T7).
-- For a group, the 低保 standard and top-up are the lowest among its counties: the plan asks every
-- county to reach them.

with indicators as not materialized (
    select * from {{ ref('indicator_values') }}
    where metric in (
        'dibao_standard', 'dibao_min_topup', 'housing_need_households', 'housing_aided_households',
        'housing_aid_coverage', 'li_real_edu_med_share', 'li_edu_med_gap_to_local',
        'li_employment_rate'
    )
),

attainment as not materialized (
    select * from {{ ref('target_attainment') }}
    where target_id in ('T4', 'T5', 'T6') and plan = '{{ var("current_plan", "2013-2017") }}'
),

figures as (
    select
        geography_level,
        geography_code,
        max(geography_name) as geography_name,
        year,
        max(value) filter (where metric = 'dibao_standard') as dibao_standard,
        max(value) filter (where metric = 'dibao_min_topup') as dibao_min_topup,
        max(counties_n) filter (where metric = 'dibao_standard') as counties_reporting,
        max(value) filter (where metric = 'housing_need_households') as housing_need_households,
        max(value) filter (where metric = 'housing_aided_households') as housing_aided_households,
        max(value) filter (where metric = 'housing_aid_coverage') as housing_aid_coverage_pct,
        max(value) filter (where metric = 'li_real_edu_med_share') as real_edu_med_share_pct,
        max(value) filter (where metric = 'li_edu_med_gap_to_local') as edu_med_gap_to_local_pp,
        max(trend) filter (where metric = 'li_edu_med_gap_to_local') as edu_med_gap_change_pp,
        max(value) filter (where metric = 'li_employment_rate') as employment_rate_pct,
        {{ theme_row_flags() }}
    from indicators
    group by geography_level, geography_code, year
),

verdicts as (
    select
        geography_level,
        geography_code,
        year,
        bool_or(met) filter (where target_id = 'T4') as dibao_met,
        bool_or(met) filter (where target_id = 'T5') as edu_med_gap_narrowed,
        bool_or(met) filter (where target_id = 'T6') as housing_met
    from attainment
    group by geography_level, geography_code, year
),

final as (
    select
        {{ theme_key_columns('f') }},
        f.dibao_standard::numeric(10, 0) as dibao_standard,
        f.dibao_min_topup::numeric(10, 0) as dibao_min_topup,
        v.dibao_met::boolean as dibao_met,
        f.counties_reporting::integer as counties_reporting,
        f.housing_need_households::integer as housing_need_households,
        f.housing_aided_households::integer as housing_aided_households,
        f.housing_aid_coverage_pct::numeric(4, 1) as housing_aid_coverage_pct,
        v.housing_met::boolean as housing_met,
        f.real_edu_med_share_pct::numeric(4, 1) as real_edu_med_share_pct,
        f.edu_med_gap_to_local_pp::numeric(5, 1) as edu_med_gap_to_local_pp,
        f.edu_med_gap_change_pp::numeric(5, 1) as edu_med_gap_change_pp,
        v.edu_med_gap_narrowed::boolean as edu_med_gap_narrowed,
        f.employment_rate_pct::numeric(4, 1) as employment_rate_pct,
        {{ theme_flag_columns('f') }}
    from figures as f
    left join verdicts as v
        on f.geography_level = v.geography_level and f.geography_code = v.geography_code and f.year = v.year
)

select * from final
