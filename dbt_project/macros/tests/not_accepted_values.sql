{#- No row holds any of the listed values (e.g. a removed status counted as monitored). -#}
{% test not_accepted_values(model, column_name, values) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} in (
        {%- for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{% endtest %}
