{#
    The theme marts (income_doubling, relocation_progress, programme_coverage, social_assistance) pivot
    indicator_values, one row per metric, into one row per geography and year. These macros are the parts
    they share: the row's flags aggregated over its figures, and the key and flag columns of the result.
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
