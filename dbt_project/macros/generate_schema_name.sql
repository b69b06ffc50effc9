{#- Bare schema names (staging, warehouse, marts …) instead of dbt's <target>_<custom> default:
    the schemas, their grants and the BI tools' view of them are fixed by lowincome.warehouse. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
