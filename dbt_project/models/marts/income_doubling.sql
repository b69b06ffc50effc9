-- Income doubling (收入倍增) per geography and year: the per-capita net income of monitored
-- low-income households, its ratio to 2012 and the on-track path, the share above 8,000 yuan
-- excluding 低保 households, and the relative gap to the province's rural average (T1, T2, T3, S2).
-- Row flags: obs_status is the weakest of the row's figures (R > P > A), obs_conf 'C' when any of
-- them is suppressed ('D' when only hidden to protect another); each figure's own flags are in
-- indicator_values.

with indicators as not materialized (
    select * from {{ ref('indicator_values') }}
    where metric in (
        'li_per_capita_net_income', 'li_income_ratio_to_2012', 'li_share_above_8000_excl_dibao',
        'li_relative_gap_to_province'
    )
),

province as (
    select
        year,
        value as province_rural_per_capita_net_income,
        obs_status,
        vintage
    from {{ ref('indicator_values') }}
    where metric = 'province_rural_per_capita_net_income'
),

attainment as not materialized (
    select * from {{ ref('target_attainment') }}
    where target_id in ('T1', 'T2', 'T3', 'S2') and plan = '{{ var("current_plan", "2013-2017") }}'
),

figures as (
    select
        geography_level,
        geography_code,
        max(geography_name) as geography_name,
        year,
        max(households_n) filter (where metric = 'li_per_capita_net_income') as households_n,
        max(value) filter (where metric = 'li_per_capita_net_income') as per_capita_net_income,
        max(value) filter (where metric = 'li_income_ratio_to_2012') as ratio_to_2012,
        max(households_n) filter (where metric = 'li_share_above_8000_excl_dibao') as households_excl_dibao_n,
        max(value) filter (where metric = 'li_share_above_8000_excl_dibao')
            as share_above_8000_excl_dibao_pct,
        max(value) filter (where metric = 'li_relative_gap_to_province') as relative_gap_pct,
        max(trend) filter (where metric = 'li_relative_gap_to_province') as relative_gap_change_pp,
        {{ theme_row_flags() }}
    from indicators
    group by geography_level, geography_code, year
),

verdicts as (
    select
        geography_level,
        geography_code,
        year,
        max(on_track_value) filter (where target_id = 'T1') as on_track_value,
        bool_or(on_track) filter (where target_id = 'T1') as on_track,
        bool_or(met) filter (where target_id = 'T1') as doubling_met,
        bool_or(met) filter (where target_id = 'T2') as share_above_8000_met,
        bool_or(met) filter (where target_id = 'T3') as gap_narrowed,
        bool_or(met) filter (where target_id = 'S2') as s2_met
    from attainment
    group by geography_level, geography_code, year
),

final as (
    select
        {{ theme_key_columns('f') }},
        f.households_n::integer as households_n,
        f.per_capita_net_income::numeric(12, 0) as per_capita_net_income,
        f.ratio_to_2012::numeric(8, 3) as ratio_to_2012,
        v.on_track_value::numeric(12, 0) as on_track_value,
        v.on_track::boolean as on_track,
        v.doubling_met::boolean as doubling_met,
        f.households_excl_dibao_n::integer as households_excl_dibao_n,
        f.share_above_8000_excl_dibao_pct::numeric(4, 1) as share_above_8000_excl_dibao_pct,
        v.share_above_8000_met::boolean as share_above_8000_met,
        v.s2_met::boolean as s2_met,
        p.province_rural_per_capita_net_income::numeric(12, 0) as province_rural_per_capita_net_income,
        f.relative_gap_pct::numeric(5, 1) as relative_gap_pct,
        f.relative_gap_change_pp::numeric(5, 1) as relative_gap_change_pp,
        v.gap_narrowed::boolean as gap_narrowed,
        {{ theme_flag_columns('f') }}
    from figures as f
    left join verdicts as v
        on f.geography_level = v.geography_level and f.geography_code = v.geography_code and f.year = v.year
    left join province as p on f.year = p.year
)

select * from final
