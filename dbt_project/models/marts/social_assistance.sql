-- Social assistance (社会救助) per geography and year: the rural 低保 standard and minimum top-up
-- (T4), housing assistance coverage (T6), the real education and medical spending share of
-- low-income households against the local rural average (T5) and their employment rate (T7).
-- For a group, the 低保 standard and top-up are the lowest among its counties: the plan asks every
-- county to reach them.

with {{ theme_pivot(
    figures={
        'dibao_standard': 'dibao_standard',
        'dibao_min_topup': 'dibao_min_topup',
        'counties_reporting': ['dibao_standard', 'counties_n'],
        'housing_need_households': 'housing_need_households',
        'housing_aided_households': 'housing_aided_households',
        'housing_aid_coverage_pct': 'housing_aid_coverage',
        'real_edu_med_share_pct': 'li_real_edu_med_share',
        'edu_med_gap_to_local_pp': 'li_edu_med_gap_to_local',
        'edu_med_gap_change_pp': ['li_edu_med_gap_to_local', 'trend'],
        'employment_rate_pct': 'li_employment_rate',
    },
    verdicts={'dibao_met': 'T4', 'edu_med_gap_narrowed': 'T5', 'housing_met': 'T6'},
) }},

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
    {{ theme_join() }}
)

select * from final
