{#- Each distinct value of `keys` in `relation`, with `columns` of its first row (in index order), found
    through an index on `keys` one value at a time: a loose index scan (a recursive query, each step
    the next key above the last). A few hundred index probes where `select distinct` reads every row:
    the incremental facts hold a few hundred submissions or county-years in millions of rows. Rows with
    a null key are not returned. -#}
{% macro distinct_keys(relation, keys, columns=[]) %}
    {%- set selected = (keys + columns) | join(', ') -%}
    {%- set ordered = keys | join(', ') -%}
    with recursive found as (
        (
            select {{ selected }}
            from {{ relation }}
            where {% for key in keys %}{{ key }} is not null{{ " and " if not loop.last }}{% endfor %}
            order by {{ ordered }}
            limit 1
        )
        union all
        select next_key.*
        from found
        cross join lateral (
            select {{ selected }}
            from {{ relation }} as later
            where ({% for key in keys %}later.{{ key }}{{ ", " if not loop.last }}{% endfor %})
                > ({% for key in keys %}found.{{ key }}{{ ", " if not loop.last }}{% endfor %})
            order by {{ ordered }}
            limit 1
        ) as next_key
    )
    select * from found
{% endmacro %}
