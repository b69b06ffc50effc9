-- Reconciliation (数据核对): figures that should agree, side by side, with the difference and
-- whether it is within tolerance. Nothing is hidden: every comparison is listed, and those beyond
-- tolerance have within_tolerance = false.
--   * household-level facts summed per county against the county indicator table
--     (processing workers and fees; households with income records against the register)
--   * the province (and the 29, the 12, each city) against the sum of its counties, for additive figures
--   * the province's rural per-capita income against the counties' population-weighted average
-- Comparisons use published figures, so a suppressed figure leaves its comparison empty.

with indicators as not materialized (
    select * from {{ ref('indicator_values') }}
),

members as not materialized (
    select * from {{ ref('int_counties_fanned_out_to_geographies') }}
),

geographies as not materialized (
    select * from {{ ref('geography') }}
),

counties as not materialized (
    select * from {{ ref('dim_county') }}
),

pairs as (
    select * from (
        values
        (
            'processing_workers', 'processing_participants', 'processing_workers', 10.0,
            '来料加工从业人员: 帮扶项目台账人数 vs 县级指标表',
            'Processing workers: persons in programme participation vs the county indicator'
        ),
        (
            'processing_fees', 'processing_programme_income', 'processing_fees', 10.0,
            '来料加工费: 帮扶项目台账收入 vs 县级指标表',
            'Processing fees: programme income in participation records vs the county indicator'
        ),
        (
            'monitored_households', 'monitored_households_with_income', 'register_monitored_households', 0.0,
            '有收入监测记录的农户 vs 登记表在册农户',
            'Monitored households with income records vs monitored households in the register'
        )
    ) as p (check_id, left_metric, right_metric, tolerance_pct, description_zh, description_en)
),

additive as (
    select * from (
        values
        ('relocated_persons'), ('relocated_households'), ('processing_workers'), ('processing_fees'),
        ('monitored_households_with_income'), ('register_monitored_households'), ('key_villages'),
        ('housing_need_households'), ('housing_aided_households'), ('mutual_aid_funds_new_since_2013'),
        ('water_safety_people_since_2013'), ('rural_road_km_since_2013')
    ) as a (metric)
),

metric_pairs as (
    select
        p.check_id,
        p.description_zh,
        p.description_en,
        p.tolerance_pct,
        r.geography_level,
        r.geography_code,
        r.year,
        p.left_metric as left_label,
        l.value as left_value,
        p.right_metric as right_label,
        r.value as right_value,
        greatest(l.vintage, r.vintage) as vintage,
        (l.obs_conf <> 'F' or r.obs_conf <> 'F') as suppressed
    from pairs as p
    inner join indicators as r on p.right_metric = r.metric and r.geography_level = 'county'
    left join indicators as l
        on
            p.left_metric = l.metric and r.geography_level = l.geography_level
            and r.geography_code = l.geography_code and r.year = l.year
),

county_cells as (
    select
        i.metric,
        i.year,
        m.geography_level,
        m.geography_code,
        sum(i.value) as value_sum,
        bool_or(i.obs_conf <> 'F') as any_suppressed,
        max(i.vintage) as vintage
    from indicators as i
    inner join additive as a on i.metric = a.metric
    inner join members as m on i.geography_code = m.county_code and m.geography_level <> 'county'
    where i.geography_level = 'county'
    group by i.metric, i.year, m.geography_level, m.geography_code
),

rollups as (
    select
        'sum_of_counties:' || t.metric as check_id,
        t.metric || ': 汇总值 vs 各县之和' as description_zh,
        t.metric || ': the published total vs the sum of its counties' as description_en,
        0.0 as tolerance_pct,
        t.geography_level,
        t.geography_code,
        t.year,
        'sum of counties' as left_label,
        case when not c.any_suppressed then c.value_sum end as left_value,
        'published total' as right_label,
        t.value as right_value,
        greatest(t.vintage, c.vintage) as vintage,
        (t.obs_conf <> 'F') as suppressed
    from indicators as t
    inner join additive as a on t.metric = a.metric
    inner join county_cells as c
        on
            t.metric = c.metric and t.year = c.year
            and t.geography_level = c.geography_level and t.geography_code = c.geography_code
    where t.geography_level <> 'county'
),

county_income as (
    select
        i.year,
        sum(i.value * c.rural_population_10k) / nullif(sum(c.rural_population_10k), 0) as weighted_income,
        max(i.vintage) as vintage
    from indicators as i
    inner join counties as c on i.geography_code = c.county_code
    where i.metric = 'farmers_per_capita_net_income' and i.geography_level = 'county' and i.value is not null
    group by i.year
),

province_income as (
    select
        'province_rural_income' as check_id,
        '全省农村居民人均纯收入 vs 各县按农村人口加权平均' as description_zh,
        'Province rural per-capita net income vs the counties'' average weighted by rural population'
            as description_en,
        5.0 as tolerance_pct,
        'province' as geography_level,
        '330000' as geography_code,
        p.year,
        'counties weighted by rural population' as left_label,
        round(c.weighted_income, 0) as left_value,
        'province_indicators' as right_label,
        p.value as right_value,
        greatest(p.vintage, c.vintage) as vintage,
        false as suppressed
    from indicators as p
    inner join county_income as c on p.year = c.year
    where p.metric = 'province_rural_per_capita_net_income'
),

unioned as (
    select * from metric_pairs
    union all
    select * from rollups
    union all
    select * from province_income
),

final as (
    select
        (u.check_id || '|' || u.geography_code || '|' || u.year)::text as reconciliation_key,
        u.check_id::text as check_id,
        u.description_zh::text as description_zh,
        u.description_en::text as description_en,
        u.geography_level::text as geography_level,
        u.geography_code::text as geography_code,
        g.geography_name::text as geography_name,
        u.year::integer as year,
        u.left_label::text as left_label,
        u.left_value::numeric as left_value,
        u.right_label::text as right_label,
        u.right_value::numeric as right_value,
        (u.left_value - u.right_value)::numeric as difference,
        round(100 * (u.left_value - u.right_value) / nullif(u.right_value, 0), 1)::numeric(12, 1)
            as relative_difference_pct,
        u.tolerance_pct::numeric(4, 1) as tolerance_pct,
        (case
            when u.left_value is null or u.right_value is null then null
            when u.right_value = 0 then u.left_value = 0
            else abs(100 * (u.left_value - u.right_value) / u.right_value) <= u.tolerance_pct
        end)::boolean as within_tolerance,
        (case when u.suppressed then 'C' else 'F' end)::text as obs_conf,
        u.vintage::timestamptz as vintage
    from unioned as u
    left join
        geographies as g
        on u.geography_level = g.geography_level and u.geography_code = g.geography_code
)

select * from final
