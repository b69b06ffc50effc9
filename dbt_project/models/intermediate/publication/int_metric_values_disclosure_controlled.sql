{% set columns = ['metric', 'unit', 'geography_level', 'geography_code', 'year', 'value', 'households_n',
                   'units_n', 'units_kind', 'counties_n', 'vintage', 'templates'] %}
-- Every figure as it will be published: rounded, disclosure-controlled, with its observation status.
--
-- Disclosure control (docs/domain.md; include/config/disclosure.yaml): a figure computed from
-- fewer than var('disclosure_min_households', 5) households is not published (primary suppression,
-- obs_conf 'C', decided in int_metric_values_primary_suppressed). Because figures add up over
-- geographies (county -> city, the 29, the 12, the province) and a cell's figures go together (a count
-- and a mean give a sum), the
-- publication's disclosure audit (lowincome.publish.disclosure) solves the attacker's linear programmes
-- over everything readable and hides more cells until no hidden one can be recovered within the
-- protection interval (secondary suppression, obs_conf 'D', in ops.disclosure_suppression).
--
-- Derived figures (ratio to 2012, gaps to the province and to farmers' income) are computed from the
-- published figures, so a reader can reproduce them and they never reveal a suppressed one.
--
-- obs_status: 'P' provisional until the reporting deadline of every template the figure depends on
-- (seed reporting_calendar) has passed at publication time, then 'A'; 'R' (revised) is decided
-- against the publication history in indicator_history.


with calendar as not materialized (
    select * from {{ ref('reporting_calendar') }}
),

publication as (
    -- set by lowincome.publish.refresh_marts (see target_attainment_history)
    select
        '{{ env_var("LOWINCOME_PUBLISHED_AT", "") or run_started_at.isoformat() }}'::timestamptz
            as published_at
),

cells as (
    select
        {% for column in columns %}c.{{ column }},
        {% endfor %}
        case
            when c.primary_suppressed then 'primary'
            when s.metric is not null then 'secondary'
        end as suppression
    from {{ ref('int_metric_values_primary_suppressed') }} as c
    left join {{ source('ops', 'disclosure_suppression') }} as s
        on
            c.metric = s.metric and c.geography_level = s.geography_level
            and c.geography_code = s.geography_code and c.year = s.year
),

published as (
    select
        metric,
        unit,
        geography_level,
        geography_code,
        year,
        case
            when suppression is null then round(value, case unit
                when 'yuan' then 0 when 'count' then 0 when 'persons' then 0 when 'ratio' then 3 else 1
            end)
        end as value,
        case when suppression is null then households_n end as households_n,
        case when suppression is null then units_n end as units_n,
        units_kind,
        counties_n,
        vintage,
        templates,
        suppression
    from cells
),

income as (
    select * from published
    where metric = 'li_per_capita_net_income'
),

province_income as (
    select * from published
    where metric = 'province_rural_per_capita_net_income'
),

farmers_income as (
    select * from published
    where metric = 'farmers_per_capita_net_income_weighted'
),

urban_income as (
    select * from published
    where metric = 'urban_per_capita_disposable_income'
),

province_urban_income as (
    select * from published
    where metric = 'province_urban_per_capita_disposable_income'
),

derived as (
    -- T1: the group's income against the same group's 2012 income
    select
        'li_income_ratio_to_2012' as metric,
        'ratio' as unit,
        y.geography_level,
        y.geography_code,
        y.year,
        round(y.value / nullif(b.value, 0), 3) as value,
        case when b.value is not null then y.households_n end as households_n,
        case when b.value is not null then y.units_n end as units_n,
        y.units_kind,
        y.counties_n,
        greatest(y.vintage, b.vintage) as vintage,
        y.templates,
        coalesce(y.suppression, case when b.suppression is not null then 'secondary' end) as suppression
    from income as y
    inner join income as b
        on y.geography_level = b.geography_level and y.geography_code = b.geography_code and b.year = 2012
    where y.year >= 2012

    union all
    -- T3: gap = 1 - group income / province rural income, in percent
    select
        'li_relative_gap_to_province' as metric,
        'percent' as unit,
        y.geography_level,
        y.geography_code,
        y.year,
        round(100 * (1 - y.value / nullif(p.value, 0)), 1) as value,
        y.households_n,
        y.units_n,
        y.units_kind,
        y.counties_n,
        greatest(y.vintage, p.vintage) as vintage,
        y.templates || p.templates as templates,
        y.suppression
    from income as y
    inner join province_income as p on y.year = p.year

    union all
    -- S3 (a): gap = 1 - low-income per-capita income / the same counties' farmers' per-capita income
    select
        'li_relative_gap_to_farmers' as metric,
        'percent' as unit,
        y.geography_level,
        y.geography_code,
        y.year,
        round(100 * (1 - y.value / nullif(f.value, 0)), 1) as value,
        y.households_n,
        y.units_n,
        y.units_kind,
        y.counties_n,
        greatest(y.vintage, f.vintage) as vintage,
        y.templates || f.templates as templates,
        coalesce(y.suppression, f.suppression) as suppression
    from income as y
    inner join farmers_income as f
        on y.geography_level = f.geography_level and y.geography_code = f.geography_code and y.year = f.year

    union all
    -- S3 (b): gap = 1 - farmers' per-capita income / province rural per-capita income
    select
        'rural_income_gap_to_province' as metric,
        'percent' as unit,
        f.geography_level,
        f.geography_code,
        f.year,
        round(100 * (1 - f.value / nullif(p.value, 0)), 1) as value,
        f.households_n,
        f.units_n,
        f.units_kind,
        f.counties_n,
        greatest(f.vintage, p.vintage) as vintage,
        f.templates || p.templates as templates,
        f.suppression
    from farmers_income as f
    inner join province_income as p on f.year = p.year

    union all
    -- S3 (b): gap = 1 - county urban per-capita disposable income / the province's
    select
        'urban_income_gap_to_province' as metric,
        'percent' as unit,
        u.geography_level,
        u.geography_code,
        u.year,
        round(100 * (1 - u.value / nullif(p.value, 0)), 1) as value,
        u.households_n,
        u.units_n,
        u.units_kind,
        u.counties_n,
        greatest(u.vintage, p.vintage) as vintage,
        u.templates || p.templates as templates,
        u.suppression
    from urban_income as u
    inner join province_urban_income as p on u.year = p.year
),

all_cells as (
    select * from published
    union all
    select * from derived
),

deadlines as (
    -- the reporting deadlines of each set of templates and year, found once per set (tens of them) rather
    -- than once per figure (19,200 on a five-year warehouse: ~0.07 s of the marts' critical path)
    select
        s.templates,
        s.year,
        d.deadline,
        d.deadlines_known
    from (select distinct
        templates,
        year
    from all_cells) as s
    cross join lateral (
        select
            max(cal.deadline) as deadline,
            count(cal.deadline) = cardinality(s.templates) as deadlines_known
        from (select distinct unnest(s.templates) as template) as t
        left join calendar as cal on t.template = cal.template and s.year = cal.year
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
        (case
            when d.deadlines_known and (pub.published_at at time zone 'Asia/Shanghai')::date > d.deadline
                then 'A'
            else 'P'
        end)::text as obs_status,
        (case c.suppression when 'primary' then 'C' when 'secondary' then 'D' else 'F' end)::text as obs_conf,
        c.suppression::text as suppression,
        pub.published_at
    from all_cells as c
    cross join publication as pub
    left join deadlines as d on c.templates = d.templates and c.year = d.year
)

select * from final
