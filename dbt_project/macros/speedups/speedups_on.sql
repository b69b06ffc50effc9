{#- The dbt half of lowincome.speedups: the macros in this folder replace dbt's own for speed, and each
    falls back to dbt's implementation when LOWINCOME_SPEEDUPS is 0, off, false or no (the same switch
    as the Python half; README "Speed-ups"). -#}
{% macro speedups_on() -%}
  {{ return(env_var('LOWINCOME_SPEEDUPS', '1') | trim | lower not in ['0', 'off', 'false', 'no']) }}
{%- endmacro %}
