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
-- The steps shared with indicator_history are macros/published_history.sql (decision 0025).


with attainment as not materialized (
    select * from {{ ref('target_attainment') }}
),

{% if is_incremental() %}

{{ published_history_publication(published_at) }},

{{ published_history_compared('attainment', key, payload) }},

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
    where {{ published_history_changed(payload) }}
),

{{ published_history_versions('attainment', key, payload, name='final') }}

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
