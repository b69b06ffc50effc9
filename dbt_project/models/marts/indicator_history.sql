{% set key = ['metric', 'geography_level', 'geography_code', 'year'] %}
{% set payload = ['value', 'unit', 'households_n', 'units_n', 'units_kind', 'counties_n', 'vintage',
                   'reporting_deadline', 'obs_status', 'obs_conf'] %}
-- Every version of every published figure: valid_from is the publication that first showed it,
-- valid_to the publication that replaced it (null = what is published now). Append-only in effect:
-- a publication adds new versions and closes replaced ones, nothing else changes, and a full
-- refresh is refused (full_refresh: false) so the record of what was published survives rebuilds.
--
-- obs_status 'R' (revised): a published value changed because newer data (a resubmission, so a new
-- vintage) arrived; once revised, a figure stays 'R'. The publication's steps shared with
-- target_attainment_history are macros/published_history.sql (not a dbt snapshot: decision 0025).


with cells as materialized (
    -- computed once: the figures of this publication, read twice below
    select * from {{ ref('int_metric_values_disclosure_controlled') }}
),

{% if is_incremental() %}

{{ published_history_publication('(select max(published_at) from cells)') }},

{{ published_history_compared('cells', key, payload) }},

with_status as (
    select
        compared.*,
        case
            when not is_new and prev_obs_status = 'R' then 'R'
            when not is_new and prev_value is not null and value is distinct from prev_value
                and vintage is distinct from prev_vintage then 'R'
            else obs_status
        end as new_obs_status
    from compared
),

changed as (
    select
        {{ key | join(', ') }},
        {% for column in payload if column != 'obs_status' %}{{ column }}, {% endfor %}
        new_obs_status as obs_status,
        prev_value as previous_value,
        case
            when is_new then 'first publication'
            when value is distinct from prev_value and vintage is distinct from prev_vintage
                then 'revised: new data received (a resubmission)'
            when value is distinct from prev_value and obs_conf is distinct from prev_obs_conf
                then 'disclosure control changed'
            when value is distinct from prev_value then 'recomputed: reference data or definition changed'
            when new_obs_status is distinct from prev_obs_status and new_obs_status = 'A'
                then 'final: the reporting deadline passed'
            when vintage is distinct from prev_vintage then 'new data received, value unchanged'
            else 'metadata changed'
        end as change_reason
    from with_status
    where {{ published_history_changed(payload, overrides={'obs_status': 'new_obs_status'}) }}
),

{{ published_history_versions('cells', key, payload, carried=['previous_value']) }},

{% else %}

unioned as (
    select
        {{ key | join(', ') }},
        {{ payload | join(', ') }},
        null::numeric as previous_value,
        'first publication' as change_reason,
        published_at as valid_from,
        null::timestamptz as valid_to
    from cells
),

{% endif %}

final as (
    select
        metric::text as metric,
        geography_level::text as geography_level,
        geography_code::text as geography_code,
        year::integer as year,
        value::numeric as value,
        unit::text as unit,
        households_n::integer as households_n,
        units_n::integer as units_n,
        units_kind::text as units_kind,
        counties_n::integer as counties_n,
        vintage::timestamptz as vintage,
        reporting_deadline::date as reporting_deadline,
        obs_status::text as obs_status,
        obs_conf::text as obs_conf,
        previous_value::numeric as previous_value,
        change_reason::text as change_reason,
        valid_from::timestamptz as valid_from,
        valid_to::timestamptz as valid_to
    from unioned
)

select * from final
