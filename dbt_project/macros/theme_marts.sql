{#
    The theme marts (income_doubling, relocation_progress, programme_coverage, social_assistance) pivot
    indicator_values, one row per metric, into one row per geography and year. These macros are the parts
    they share: the pivot itself (theme_pivot: the CTEs figures and verdicts, and the rows they read),
    the row's flags aggregated over its figures, the key and flag columns of the result and its join
    (theme_join). A mart states its metrics, its targets and its own columns:

        with {{ theme_pivot(figures={'column': 'metric', ...}, verdicts={'column': 'target_id', ...}) }},
        final as (select {{ theme_key_columns('f') }}, f.column::type as column, ...,
                         {{ theme_flag_columns('f') }} {{ theme_join() }})

    A row's obs_status is the weakest of its figures' (R > P > A); obs_conf is 'C' when any is suppressed for its own sake, else 'D' when any is hidden to protect another.
#}

{% macro theme_row_flags() -%}
        bool_or(obs_status = 'R') as any_revised,
        bool_or(obs_status = 'P') as any_provisional,
        bool_or(obs_conf = 'C') as any_suppressed,
        bool_or(obs_conf = 'D') as any_secondary,
        max(vintage) as vintage
{%- endmacro %}

{% macro theme_key_columns(alias='f') -%}
        {{ alias }}.geography_level::text as geography_level,
        {{ alias }}.geography_code::text as geography_code,
        {{ alias }}.geography_name::text as geography_name,
        {{ alias }}.year::integer as year
{%- endmacro %}

{% macro theme_flag_columns(alias='f') -%}
        (case when {{ alias }}.any_revised then 'R' when {{ alias }}.any_provisional then 'P' else 'A' end)::text as obs_status,
        (case when {{ alias }}.any_suppressed then 'C' when {{ alias }}.any_secondary then 'D' else 'F' end)::text as obs_conf,
        {{ alias }}.vintage::timestamptz as vintage
{%- endmacro %}

{#
    theme_pivot(figures, verdicts, metric_patterns=[]): the CTEs indicators, attainment, figures and
    verdicts (without the leading `with`; the mart adds its own CTEs after them).
    figures: output column -> metric (its value), or -> [metric, field] for another field of its row
      (households_n, counties_n, trend); every metric named is read, and the rows of metric_patterns
      (like patterns) too: they count in the row's flags.
    verdicts: output column -> target_id (bool_or(met) over the current plan's rows), or
      -> [target_id, aggregate] for another aggregate of its rows (e.g. 'max(on_track_value)').
#}
{% macro theme_pivot(figures, verdicts, metric_patterns=[]) -%}
{%- set metrics = [] -%}
{%- for spec in figures.values() -%}
    {%- set metric = spec if spec is string else spec[0] -%}
    {%- if metric not in metrics %}{% do metrics.append(metric) %}{% endif -%}
{%- endfor -%}
{%- set targets = [] -%}
{%- for spec in verdicts.values() -%}
    {%- set target_id = spec if spec is string else spec[0] -%}
    {%- if target_id not in targets %}{% do targets.append(target_id) %}{% endif -%}
{%- endfor -%}
indicators as not materialized (
    select * from {{ ref('indicator_values') }}
    where
        metric in (
            {%- for metric in metrics %}
            '{{ metric }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
        {%- for pattern in metric_patterns %}
        or metric like '{{ pattern }}'
        {%- endfor %}
),

attainment as not materialized (
    select * from {{ ref('target_attainment') }}
    where
        target_id in ('{{ targets | join("', '") }}')
        and plan = '{{ var("current_plan", "2013-2017") }}'
),

figures as (
    select
        geography_level,
        geography_code,
        max(geography_name) as geography_name,
        year,
        {%- for column, spec in figures.items() %}
        {%- if spec is string %}
        max(value) filter (where metric = '{{ spec }}') as {{ column }},
        {%- else %}
        max({{ spec[1] }}) filter (where metric = '{{ spec[0] }}') as {{ column }},
        {%- endif %}
        {%- endfor %}
        {{ theme_row_flags() }}
    from indicators
    group by geography_level, geography_code, year
),

verdicts as (
    select
        geography_level,
        geography_code,
        year,
        {%- for column, spec in verdicts.items() %}
        {%- if spec is string %}
        bool_or(met) filter (where target_id = '{{ spec }}') as {{ column }}{{ ',' if not loop.last }}
        {%- else %}
        {{ spec[1] }} filter (where target_id = '{{ spec[0] }}') as {{ column }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from attainment
    group by geography_level, geography_code, year
)
{%- endmacro %}

{# the FROM of a theme mart's final select: its figures (f), their verdicts (v) where there are any #}
{% macro theme_join() -%}
    from figures as f
    left join verdicts as v
        on f.geography_level = v.geography_level and f.geography_code = v.geography_code and f.year = v.year
{%- endmacro %}
