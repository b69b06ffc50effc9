{#- A readable single-column key from its parts: 'part1-part2-…' (household_key || '-' || year in the
    warehouse contract). The parts are codes, years and hex hashes, none of which contains '-', so the
    key is unambiguous; a null part becomes '' so the key itself is never null. -#}
{% macro surrogate_key(parts) -%}
    {%- for part in parts -%}
        coalesce(cast({{ part }} as text), '')
        {%- if not loop.last %} || '-' || {% endif -%}
    {%- endfor -%}
{%- endmacro %}
