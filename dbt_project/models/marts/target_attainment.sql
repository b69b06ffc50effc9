-- Where each county, city, the 29, the 12 and the province stand against each target of the plan,
-- year by year: one row per target x geography x year. value/threshold are the target's headline
-- criterion (the lowest-numbered one present); met combines every assessed criterion: false when
-- any fails, null when any cannot be judged (no data, suppressed), true when all are met; targets
-- whose plan gives no number (T7, P5) keep met null.
-- Window functions instead of self-joins keep this linear in the number of criteria rows.

with criteria as not materialized (
    select * from {{ ref('target_criteria') }}
),

annotated as (
    select
        c.*,
        row_number() over cell as position,
        count(*) filter (where c.assessed and c.comparison <> 'report') over cell as criteria_assessed_n,
        count(*) filter (where c.met) over cell as criteria_met_n,
        bool_or(c.met = false) over cell as any_failed,
        bool_or(c.assessed and c.comparison <> 'report' and c.met is null) over cell as any_unknown,
        bool_or(c.obs_status = 'R') over cell as any_revised,
        bool_or(c.obs_status = 'P') over cell as any_provisional,
        max(c.vintage) over cell as latest_vintage,
        -- the criterion measured against a base year (T1: the ratio to 2012) and its on-track path
        max(c.value) filter (where c.base_year is not null) over cell as ratio_to_base,
        -- the path unrounded (target_criteria publishes it rounded to 3 decimals): 2 ^ ((Y - 2012) / 5)
        max(case
            when c.threshold is null then null
            when c.year >= c.deadline_year then c.threshold
            when c.year >= c.base_year then
                power(c.threshold, (c.year - c.base_year)::numeric / (c.deadline_year - c.base_year))
        end) filter (where c.base_year is not null) over cell as path_ratio,
        bool_or(c.on_track) filter (where c.base_year is not null) over cell as path_on_track,
        max(c.base_year) over (partition by c.plan, c.target_id) as target_base_year
    from criteria as c
    window cell as (
        partition by c.plan, c.target_id, c.geography_level, c.geography_code, c.year
        order by c.criterion
        rows between unbounded preceding and unbounded following
    )
),

headline as (
    select
        a.*,
        max(case when a.year = a.target_base_year then a.value end) over (
            partition by a.plan, a.target_id, a.geography_level, a.geography_code
        ) as base_value
    from annotated as a
    where a.position = 1
),

final as (
    select
        plan::text as plan,
        target_id::text as target_id,
        description_zh::text as description_zh,
        description_en::text as description_en,
        geography_level::text as geography_level,
        geography_code::text as geography_code,
        geography_name::text as geography_name,
        year::integer as year,
        deadline_year::integer as deadline_year,
        metric::text as metric,
        value::numeric as value,
        unit::text as unit,
        comparison::text as comparison,
        threshold::numeric as threshold,
        (case
            when criteria_assessed_n = 0 then null
            when any_failed then false
            when any_unknown then null
            else true
        end)::boolean as met,
        gap_to_threshold::numeric as gap_to_threshold,
        previous_year_value::numeric as previous_year_value,
        trend::numeric as trend,
        (case when target_base_year is not null then base_value end)::numeric as base_value,
        ratio_to_base::numeric as ratio_to_base,
        round(base_value * path_ratio, case unit
            when 'yuan' then 0 when 'count' then 0
            when 'persons' then 0 when 'ratio' then 3 else 1
        end)::numeric as on_track_value,
        path_on_track::boolean as on_track,
        criteria_assessed_n::integer as criteria_n,
        criteria_met_n::integer as criteria_met_n,
        households_n::integer as households_n,
        units_n::integer as units_n,
        counties_n::integer as counties_n,
        (case
            when any_revised then 'R'
            when any_provisional then 'P'
            else obs_status
        end)::text as obs_status,
        obs_conf::text as obs_conf,
        latest_vintage::timestamptz as vintage,
        -- added for the narrowing-trend targets (T3, S3): the least-squares slope of the yearly values
        trend_slope::numeric as trend_slope
    from headline
)

select * from final
