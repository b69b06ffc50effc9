{% set key = ['plan', 'target_id', 'geography_level', 'geography_code', 'year'] %}
{% set payload = ['description_zh', 'description_en', 'geography_name', 'deadline_year', 'metric', 'value',
                   'unit', 'comparison', 'threshold', 'met', 'gap_to_threshold', 'previous_year_value', 'trend',
                   'base_value', 'ratio_to_base', 'on_track_value', 'on_track', 'criteria_n', 'criteria_met_n',
                   'households_n', 'units_n', 'counties_n', 'obs_status', 'obs_conf', 'vintage'] %}
{# the publication's time: lowincome.publish.refresh_marts passes it in the environment (a var would
   cost a full re-parse of the project every night; a changed env var re-parses only this file) #}
{% set published_at = "'" ~ (env_var('LOWINCOME_PUBLISHED_AT', '') or run_started_at.isoformat())
                      ~ "'::timestamptz" %}
-- Every version of every published row of target_attainment: valid_from is the publication that
-- first showed it, valid_to the one that replaced it (null = published now). A publication only
-- adds versions and closes replaced ones, and a full refresh is refused (full_refresh: false).
-- "As published at time T": marts.target_attainment_as_of(T), created by this model's post-hook.


with attainment as not materialized (
    select * from {{ ref('target_attainment') }}
),

{% if is_incremental() %}

published_versions as (
    select * from {{ this }} where valid_to is null
),

publication as (
    select greatest(
        {{ published_at }},
        (select max(valid_from) from {{ this }}) + interval '1 millisecond'
    ) as published_at
),

compared as (
    select
        a.*,
        {% for column in payload %}v.{{ column }} as prev_{{ column }},
        {% endfor %}v.target_id is null as is_new
    from attainment as a
    left join published_versions as v using ({{ key | join(', ') }})
),

changed as (
    select
        {{ key | join(', ') }},
        {{ payload | join(', ') }},
        case
            when is_new then 'first publication'
            when value is distinct from prev_value and vintage is distinct from prev_vintage
                then 'revised: new data received (a resubmission)'
            when value is distinct from prev_value then 'value changed'
            when met is distinct from prev_met then 'verdict changed'
            when obs_status is distinct from prev_obs_status and obs_status = 'A'
                then 'final: the reporting deadline passed'
            when obs_status is distinct from prev_obs_status then 'status changed to ' || obs_status
            when vintage is distinct from prev_vintage then 'new data received, value unchanged'
            else 'metadata changed'
        end as change_reason
    from compared
    where is_new
        or ({{ payload | join(', ') }}) is distinct from
           ({% for column in payload %}prev_{{ column }}{{ ', ' if not loop.last }}{% endfor %})
),

new_versions as (
    select
        {{ key | join(', ') }},
        {{ payload | join(', ') }},
        change_reason,
        (select published_at from publication) as valid_from,
        null::timestamptz as valid_to
    from changed
),

closed_versions as (
    select
        {% for column in key + payload %}v.{{ column }}, {% endfor %}
        v.change_reason,
        v.valid_from,
        (select published_at from publication) as valid_to
    from published_versions as v
    where exists (
            select 1 from changed as c
            where {% for column in key %}c.{{ column }} = v.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
        )
        or not exists (
            select 1 from attainment as a
            where {% for column in key %}a.{{ column }} = v.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
        )
),

final as (
    select * from new_versions
    union all
    select * from closed_versions
)

{% else %}

final as (
    select
        {{ key | join(', ') }},
        {{ payload | join(', ') }},
        'first publication'::text as change_reason,
        {{ published_at }} as valid_from,
        null::timestamptz as valid_to
    from attainment
)

{% endif %}

select * from final
