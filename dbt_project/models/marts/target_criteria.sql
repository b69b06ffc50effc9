-- Each criterion of each target (seed `targets`) for every geography of its population and every
-- year of its plan: the published figure, the threshold and the verdict. A target with several
-- criteria (T1: level and doubling; T4: standard and top-up; ...) has one row per criterion here;
-- target_attainment combines them.
--
-- population: all | group29 | group12 | developed | province  (which counties the target covers)
-- assessed_at: each  -> every county and group of the population is held to the threshold
--              total -> only the population's total is (R1: 60,000 people a year over the 29)
-- comparison:  ge | gt | le (threshold) | decrease (below last year) | narrow (|value| below last
--              year's) | trend (a narrowing trend, 呈缩小趋势: below the base year's value and the
--              least-squares slope of the yearly values from the base year up to Y negative; the change
--              from the year before, `trend`, is information) | report (the plan gives no number: met
--              stays null)
-- Verdicts use the published (rounded) figures, so a reader can reproduce every one. The base year
-- (the year before the plan's first) gets the threshold for reference but no verdict. The on-track
-- path is computed unrounded and rounded only where it is published (on_track_value).

with targets as not materialized (
    select * from {{ ref('targets') }}
),

geographies as not materialized (
    select * from {{ ref('geography') }}
),

indicators as not materialized (
    select * from {{ ref('indicator_values') }}
),

years_published as (
    select distinct year from indicators
),

criteria as (
    select
        t.*,
        split_part(t.plan, '-', 1)::integer - 1 as first_year,
        split_part(t.plan, '-', 2)::integer as last_year,
        case t.population
            when 'all' then 'province'
            when 'province' then 'province'
            when 'group29' then 'group29'
            when 'group12' then 'group12'
        end as population_total_level
    from targets as t
    -- criteria the submission templates carry no data for (M1, I1's bus integration, ...) are
    -- listed in plan_targets but cannot be assessed
    where t.metric is not null
),

grid as (
    select
        c.*,
        g.geography_level,
        g.geography_code,
        g.geography_name,
        y.year,
        (c.assessed_at = 'each' or g.geography_level = c.population_total_level) as in_scope,
        -- the base year is a reference, not a year of the plan: no verdict for it
        (c.assessed_at = 'each' or g.geography_level = c.population_total_level) and y.year > c.first_year
            as assessed
    from criteria as c
    inner join geographies as g
        on case c.population
            when 'all' then true
            when 'province' then g.geography_level in ('county', 'city', 'province')
            when
                'group29'
                then (g.geography_level = 'county' and g.is_29) or g.geography_level in ('group29', 'group12')
            when 'group12' then (g.geography_level = 'county' and g.is_12) or g.geography_level = 'group12'
            when 'developed' then g.geography_level = 'county' and g.area_type = 'developed'
            else false
        end
    inner join years_published as y on y.year between c.first_year and c.last_year
),

joined as (
    select
        g.*,
        i.value,
        i.unit,
        i.previous_year_value,
        i.trend,
        i.households_n,
        i.units_n,
        i.counties_n,
        i.vintage,
        i.obs_status,
        i.obs_conf
    from grid as g
    left join indicators as i
        on
            g.metric = i.metric and g.geography_level = i.geography_level
            and g.geography_code = i.geography_code and g.year = i.year
),

with_series as (
    -- a trend criterion's reference: the value of the base year (the year before the plan's first) and
    -- the least-squares slope of the published values from then up to the year
    select
        j.*,
        max(j.value) filter (where j.year = j.first_year) over series as first_year_value,
        regr_slope(j.value, j.year)
            over (series rows between unbounded preceding and current row)
            as trend_slope
    from joined as j
    window series as (
        partition by j.plan, j.id, j.criterion, j.geography_level, j.geography_code order by j.year
    )
),

judged as (
    select
        j.*,
        case when j.in_scope then j.threshold end as applicable_threshold,
        case
            when not j.assessed or j.comparison = 'report' or j.value is null then null
            when j.comparison = 'ge' then j.value >= j.threshold
            when j.comparison = 'gt' then j.value > j.threshold
            when j.comparison = 'le' then j.value <= j.threshold
            when j.comparison = 'decrease' then j.value < j.previous_year_value
            when j.comparison = 'narrow' then abs(j.value) < abs(j.previous_year_value)
            when j.comparison = 'trend' then j.value < j.first_year_value and j.trend_slope < 0
        end as met,
        -- the on-track path from the base year to the deadline: threshold ^ ((Y - base) / (deadline - base)),
        -- e.g. T1's doubling: 2 ^ ((Y - 2012) / 5)
        case
            when j.base_year is null or j.threshold is null or not j.in_scope then null
            when j.year >= j.deadline_year then j.threshold
            when j.year >= j.base_year then
                power(j.threshold, (j.year - j.base_year)::numeric / (j.deadline_year - j.base_year))
        end as on_track_path
    from with_series as j
),

final as (
    select
        plan::text as plan,
        id::text as target_id,
        criterion::integer as criterion,
        description_zh::text as description_zh,
        description_en::text as description_en,
        metric::text as metric,
        comparison::text as comparison,
        population::text as population,
        assessed_at::text as assessed_at,
        geography_level::text as geography_level,
        geography_code::text as geography_code,
        geography_name::text as geography_name,
        year::integer as year,
        deadline_year::integer as deadline_year,
        base_year::integer as base_year,
        assessed,
        value::numeric as value,
        unit::text as unit,
        applicable_threshold::numeric as threshold,
        met,
        (case when applicable_threshold is not null then value - applicable_threshold end)::numeric
            as gap_to_threshold,
        previous_year_value::numeric as previous_year_value,
        trend::numeric as trend,
        round(on_track_path, 3)::numeric as on_track_value,
        (value >= on_track_path) as on_track,
        households_n::integer as households_n,
        units_n::integer as units_n,
        counties_n::integer as counties_n,
        vintage::timestamptz as vintage,
        -- 'M': nothing published for this cell (no data received)
        coalesce(obs_status, 'M')::text as obs_status,
        coalesce(obs_conf, 'F')::text as obs_conf,
        (case when comparison = 'trend' then trend_slope end)::numeric as trend_slope,
        (case when comparison = 'trend' then first_year_value end)::numeric as first_year_value
    from judged
)

select * from final
