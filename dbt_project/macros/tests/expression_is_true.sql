{#- Every row satisfies the SQL expression (rows where it is false are the failures; null passes). -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
