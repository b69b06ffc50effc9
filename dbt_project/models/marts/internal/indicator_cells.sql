{% set min_households = var('disclosure_min_households', 5) %}
{% set passes = 4 %}
{% set columns = ['metric', 'unit', 'geography_level', 'geography_code', 'year', 'value', 'households_n',
                   'units_n', 'units_kind', 'counties_n', 'vintage', 'templates'] %}
-- Every figure as it will be published: rounded, disclosure-controlled, with its observation status.
--
-- Disclosure control (domain.md "Disclosure"): a figure computed from fewer than
-- var('disclosure_min_households', 5) households is not published (primary suppression). Because
-- county figures add up to the city, the 29, the 12 and the province (and cities to the province),
-- a lone hidden cell could be recovered from its published total and its siblings; so when exactly
-- one member of a published total is hidden, the sibling built from the fewest households is hidden
-- too (secondary suppression), or the total itself when there is no sibling. Hiding one cell can
-- expose another group, so the rule runs `passes` times; marts tests check nothing is left exposed.
--
-- Derived figures (ratio to 2012, gap to the province) are computed from the published figures, so
-- a reader can reproduce them and they never reveal a suppressed one.
--
-- obs_status: 'P' provisional until the reporting deadline of every template the figure depends on
-- (seed reporting_calendar) has passed at publication time, then 'A'; 'R' (revised) is decided
-- against the publication history in indicator_history.


with metrics as not materialized (
    select * from {{ ref('metric_values') }}
),

members as not materialized (
    select * from {{ ref('geography_members') }}
),

calendar as not materialized (
    select * from {{ ref('reporting_calendar') }}
),

publication as (
    -- set by lowincome.publish.refresh_marts (see target_attainment_history)
    select '{{ env_var("LOWINCOME_PUBLISHED_AT", "") or run_started_at.isoformat() }}'::timestamptz as published_at
),

pairs as (
    -- a member cell and a published total it adds up to
    select 'county' as member_level, county_code as member_code,
        geography_level as parent_level, geography_code as parent_code
    from members
    where geography_level <> 'county'
    union
    select 'city', geography_code, 'province', '330000'
    from members
    where geography_level = 'city'
),

cells_0 as (
    select
        {{ columns | join(', ') }},
        case when households_n is not null and households_n < {{ min_households }} then 'primary' end
            as suppression
    from metrics
),

{% for i in range(1, passes + 1) %}
family_{{ i }} as (
    select p.parent_level, p.parent_code, c.metric, c.year, c.geography_level, c.geography_code,
        c.households_n, c.suppression is not null as hidden
    from cells_{{ i - 1 }} as c
    inner join pairs as p on p.member_level = c.geography_level and p.member_code = c.geography_code
    where c.households_n is not null
),

exposed_{{ i }} as (
    -- published totals with exactly one hidden member
    select f.parent_level, f.parent_code, f.metric, f.year
    from family_{{ i }} as f
    inner join cells_{{ i - 1 }} as total
        on total.geography_level = f.parent_level and total.geography_code = f.parent_code
        and total.metric = f.metric and total.year = f.year and total.suppression is null
    group by f.parent_level, f.parent_code, f.metric, f.year
    having count(*) filter (where f.hidden) = 1
),

partners_{{ i }} as (
    select distinct on (e.parent_level, e.parent_code, e.metric, e.year)
        e.parent_level, e.parent_code, e.metric, e.year, f.geography_level, f.geography_code
    from exposed_{{ i }} as e
    inner join family_{{ i }} as f
        on f.parent_level = e.parent_level and f.parent_code = e.parent_code
        and f.metric = e.metric and f.year = e.year
    where not f.hidden
    order by e.parent_level, e.parent_code, e.metric, e.year, f.households_n, f.geography_code
),

newly_hidden_{{ i }} as (
    select metric, year, geography_level, geography_code from partners_{{ i }}
    union
    -- no sibling left to hide with the lone cell: hide the total instead
    select e.metric, e.year, e.parent_level, e.parent_code
    from exposed_{{ i }} as e
    where not exists (
        select 1 from partners_{{ i }} as p
        where p.parent_level = e.parent_level and p.parent_code = e.parent_code
            and p.metric = e.metric and p.year = e.year
    )
),

cells_{{ i }} as (
    select
        {% for column in columns %}c.{{ column }}, {% endfor %}
        coalesce(c.suppression, case when n.metric is not null then 'secondary' end) as suppression
    from cells_{{ i - 1 }} as c
    left join newly_hidden_{{ i }} as n
        on n.metric = c.metric and n.year = c.year
        and n.geography_level = c.geography_level and n.geography_code = c.geography_code
),

{% endfor %}
published as (
    select
        metric, unit, geography_level, geography_code, year,
        case when suppression is null then round(value, case unit
            when 'yuan' then 0 when 'count' then 0 when 'persons' then 0 when 'ratio' then 3 else 1 end)
        end as value,
        case when suppression is null then households_n end as households_n,
        case when suppression is null then units_n end as units_n,
        units_kind, counties_n, vintage, templates, suppression
    from cells_{{ passes }}
),

income as (
    select * from published where metric = 'li_per_capita_net_income'
),

province_income as (
    select * from published where metric = 'province_rural_per_capita_net_income'
),

derived as (
    -- T1: the group's income against the same group's 2012 income
    select
        'li_income_ratio_to_2012' as metric, 'ratio' as unit, y.geography_level, y.geography_code, y.year,
        round(y.value / nullif(b.value, 0), 3) as value,
        case when b.value is not null then y.households_n end as households_n,
        case when b.value is not null then y.units_n end as units_n,
        y.units_kind, y.counties_n, greatest(y.vintage, b.vintage) as vintage, y.templates,
        coalesce(y.suppression, case when b.suppression is not null then 'secondary' end) as suppression
    from income as y
    inner join income as b
        on b.geography_level = y.geography_level and b.geography_code = y.geography_code and b.year = 2012
    where y.year >= 2012

    union all
    -- T3: gap = 1 - group income / province rural income, in percent
    select
        'li_relative_gap_to_province', 'percent', y.geography_level, y.geography_code, y.year,
        round(100 * (1 - y.value / nullif(p.value, 0)), 1),
        y.households_n, y.units_n, y.units_kind, y.counties_n, greatest(y.vintage, p.vintage),
        y.templates || p.templates, y.suppression
    from income as y
    inner join province_income as p on p.year = y.year
),

all_cells as (
    select * from published
    union all
    select * from derived
),

deadlines as (
    -- the reporting deadlines of each set of templates and year, found once per set (tens of them) rather
    -- than once per figure (19,200 on a five-year warehouse: ~0.07 s of the marts' critical path)
    select s.templates, s.year, d.deadline, d.deadlines_known
    from (select distinct templates, year from all_cells) as s
    cross join lateral (
        select max(cal.deadline) as deadline, count(cal.deadline) = cardinality(s.templates) as deadlines_known
        from (select distinct unnest(s.templates) as template) as t
        left join calendar as cal on cal.template = t.template and cal.year = s.year
    ) as d
),

final as (
    select
        c.metric::text as metric,
        c.unit::text as unit,
        c.geography_level::text as geography_level,
        c.geography_code::text as geography_code,
        c.year::integer as year,
        c.value::numeric as value,
        c.households_n::integer as households_n,
        c.units_n::integer as units_n,
        c.units_kind::text as units_kind,
        c.counties_n::integer as counties_n,
        c.vintage::timestamptz as vintage,
        d.deadline::date as reporting_deadline,
        (case when d.deadlines_known and (pub.published_at at time zone 'Asia/Shanghai')::date > d.deadline
            then 'A' else 'P' end)::text as obs_status,
        (case when c.suppression is null then 'F' else 'C' end)::text as obs_conf,
        c.suppression::text as suppression,
        pub.published_at
    from all_cells as c
    cross join publication as pub
    left join deadlines as d on d.templates = c.templates and d.year = c.year
)

select * from final
