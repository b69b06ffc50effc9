-- Income doubling (收入倍增) per geography and year: the per-capita net income of monitored
-- low-income households, its ratio to 2012 and the on-track path, the share above 8,000 yuan
-- excluding 低保 households, and the relative gap to the province's rural average (T1, T2, T3, S2).
-- Row flags: obs_status is the weakest of the row's figures (R > P > A), obs_conf 'C' when any of
-- them is suppressed ('D' when only hidden to protect another); each figure's own flags are in
-- indicator_values.

with {{ theme_pivot(
    figures={
        'households_n': ['li_per_capita_net_income', 'households_n'],
        'per_capita_net_income': 'li_per_capita_net_income',
        'ratio_to_2012': 'li_income_ratio_to_2012',
        'households_excl_dibao_n': ['li_share_above_8000_excl_dibao', 'households_n'],
        'share_above_8000_excl_dibao_pct': 'li_share_above_8000_excl_dibao',
        'relative_gap_pct': 'li_relative_gap_to_province',
        'relative_gap_change_pp': ['li_relative_gap_to_province', 'trend'],
    },
    verdicts={
        'on_track_value': ['T1', 'max(on_track_value)'],
        'on_track': ['T1', 'bool_or(on_track)'],
        'doubling_met': 'T1',
        'share_above_8000_met': 'T2',
        'gap_narrowed': 'T3',
        's2_met': 'S2',
    },
) }},

province as (
    select
        year,
        value as province_rural_per_capita_net_income,
        obs_status,
        vintage
    from {{ ref('indicator_values') }}
    where metric = 'province_rural_per_capita_net_income'
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
    {{ theme_join() }}
    left join province as p on f.year = p.year
)

select * from final
