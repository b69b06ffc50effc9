-- Every published figure as it stands now (the current versions of indicator_history), one row
-- per metric x geography x year, with the change against the previous year.

with history as not materialized (
    select * from {{ ref('indicator_history') }}
),

geographies as not materialized (
    select * from {{ ref('geography') }}
),

current_versions as (
    select * from history
    where valid_to is null
),

first_published as (
    select
        metric,
        geography_level,
        geography_code,
        year,
        min(valid_from) as first_published_at
    from history
    group by metric, geography_level, geography_code, year
),

with_previous_year as (
    select
        c.*,
        lag(c.value) over (
            partition by c.metric, c.geography_level, c.geography_code order by c.year
        ) as previous_year_value,
        lag(c.year) over (
            partition by c.metric, c.geography_level, c.geography_code order by c.year
        ) as previous_year
    from current_versions as c
),

final as (
    select
        v.metric,
        v.geography_level,
        v.geography_code,
        g.geography_name,
        v.year,
        v.value,
        v.unit,
        -- only against the year just before, and only between published values
        case when v.previous_year = v.year - 1 then v.previous_year_value end as previous_year_value,
        case when v.previous_year = v.year - 1 then v.value - v.previous_year_value end as trend,
        v.households_n,
        v.units_n,
        v.units_kind,
        v.counties_n,
        v.vintage,
        v.reporting_deadline,
        v.obs_status,
        v.obs_conf,
        f.first_published_at,
        v.valid_from as published_at
    from with_previous_year as v
    left join geographies as g
        on v.geography_level = g.geography_level and v.geography_code = g.geography_code
    inner join first_published as f
        on
            v.metric = f.metric and v.geography_level = f.geography_level
            and v.geography_code = f.geography_code and v.year = f.year
)

select * from final
