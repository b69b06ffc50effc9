{#
    The publication histories (indicator_history, target_attainment_history): every version of every
    published row, valid_from the publication that first showed it, valid_to the one that replaced it
    (null = published now). An incremental run is one publication: it adds the versions that changed
    and closes the ones they replace or that are no longer published, both at the publication's time.
    These macros are the parts the two share; each model keeps what is its own (what it publishes, the
    publication's time, what counts as a change and why it changed). Not dbt snapshots: decision 0025.

    In an incremental run a history reads, in this order:
        published_versions, publication      published_history_publication(published_at)
        compared                             published_history_compared(current, key, payload)
        changed (the model's own)            where {{ published_history_changed(payload) }}
        new_versions, closed_versions, <as>  published_history_versions(current, key, payload, ...)
#}

{# the versions published now, and the publication's time: later than every one before it, even when a
   test pins published_at (a publication at the same instant would break the key with valid_from) #}
{% macro published_history_publication(published_at) -%}
published_versions as (
    select * from {{ this }} where valid_to is null
),

publication as (
    select greatest(
        {{ published_at }},
        (select max(valid_from) from {{ this }}) + interval '1 millisecond'
    ) as published_at
)
{%- endmacro %}

{# each row of this publication beside the version published now (prev_<column>; is_new: none) #}
{% macro published_history_compared(current, key, payload) -%}
compared as (
    select
        c.*,
        {% for column in payload %}v.{{ column }} as prev_{{ column }},
        {% endfor %}v.{{ key[0] }} is null as is_new
    from {{ current }} as c
    left join published_versions as v using ({{ key | join(', ') }})
)
{%- endmacro %}

{# a row is a new version when it is new or any payload column differs from the published version's;
   overrides: a column compared under another name (a status derived from the previous version) #}
{% macro published_history_changed(payload, overrides={}) -%}
is_new
        or ({% for column in payload %}{{ overrides.get(column, column) }}{{ ', ' if not loop.last }}{% endfor %})
            is distinct from
           ({% for column in payload %}prev_{{ column }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{# the rows an incremental run writes, named `name`: the new versions (from `changed`: key, payload,
   carried columns, change_reason) opened at the publication, and the published versions they replace
   or that `current` no longer holds, closed at it #}
{% macro published_history_versions(current, key, payload, carried=[], name='unioned') -%}
new_versions as (
    select
        {{ key | join(', ') }},
        {{ payload | join(', ') }},
        {% for column in carried %}{{ column }}, {% endfor %}change_reason,
        (select published_at from publication) as valid_from,
        null::timestamptz as valid_to
    from changed
),

closed_versions as (
    -- replaced by a new version, or no longer published at all
    select
        {% for column in key + payload + carried %}v.{{ column }}, {% endfor %}
        v.change_reason,
        v.valid_from,
        (select published_at from publication) as valid_to
    from published_versions as v
    where exists (
            select 1 from changed as c
            where {% for column in key %}c.{{ column }} = v.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
        )
        or not exists (
            select 1 from {{ current }} as c
            where {% for column in key %}c.{{ column }} = v.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
        )
),

{{ name }} as (
    select * from new_versions
    union all
    select * from closed_versions
)
{%- endmacro %}
