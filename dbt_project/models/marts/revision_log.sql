-- When and why a published figure changed: one row per replaced version, from the publication
-- histories of the figures (indicator_history) and of the target verdicts (target_attainment_history).

with indicator_versions as not materialized (
    select * from {{ ref('indicator_history') }}
),

attainment_versions as not materialized (
    select * from {{ ref('target_attainment_history') }}
),

indicator_changes as (
    select
        'indicator' as subject,
        metric as subject_id,
        geography_level,
        geography_code,
        year,
        valid_from as changed_at,
        previous_value,
        value,
        unit,
        null::boolean as previous_met,
        null::boolean as met,
        lag(obs_status) over version as previous_obs_status,
        obs_status,
        lag(vintage) over version as previous_vintage,
        vintage,
        change_reason
    from indicator_versions
    window version as (partition by metric, geography_level, geography_code, year order by valid_from)
),

attainment_changes as (
    select
        'target' as subject,
        target_id as subject_id,
        geography_level,
        geography_code,
        year,
        valid_from as changed_at,
        lag(value) over version as previous_value,
        value,
        unit,
        lag(met) over version as previous_met,
        met,
        lag(obs_status) over version as previous_obs_status,
        obs_status,
        lag(vintage) over version as previous_vintage,
        vintage,
        change_reason
    from attainment_versions
    window
        version as (partition by plan, target_id, geography_level, geography_code, year order by valid_from)
),

unioned as (
    select * from indicator_changes
    union all
    select * from attainment_changes
),

final as (
    select
        subject::text as subject,
        subject_id::text as subject_id,
        geography_level::text as geography_level,
        geography_code::text as geography_code,
        year::integer as year,
        changed_at::timestamptz as changed_at,
        previous_value::numeric as previous_value,
        value::numeric as value,
        unit::text as unit,
        previous_met::boolean as previous_met,
        met::boolean as met,
        previous_obs_status::text as previous_obs_status,
        obs_status::text as obs_status,
        previous_vintage::timestamptz as previous_vintage,
        vintage::timestamptz as vintage,
        change_reason::text as change_reason
    from unioned
    -- first publications are not revisions
    where change_reason <> 'first publication'
)

select * from final
