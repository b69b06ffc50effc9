-- Classified evaluation (分类考核评价): each county is evaluated within its class (the 12 counties, the
-- other counties of the 29, developed-area counties, the rest), year by year. One row per plan x
-- county x year x target the county is held to; the county-year's composite score and its rank in the
-- class are repeated on each of its rows.
--
-- Read generically from target_attainment: a target applies to a county when the county is held to at
-- least one of its criteria with a number or a rule (criteria_n > 0). Report-only targets (T7, P5), the
-- targets judged on a population's total only (P2, R1, F2's 500 over the 29) and the base year are not
-- evaluated. A target added to the seed `targets` flows in without a change here.
--
-- Distance to the threshold, in [0, 1], per criterion (target_criteria, on the published figures):
--   ge / gt with a positive threshold: min(1, max(0, (threshold - value) / threshold))
--   le with a positive threshold:      min(1, max(0, (value - threshold) / threshold))
--   any other rule (narrowing, a trend, no positive number): 0 when met, 1 when not
-- A target's distance: 0 when met; when not met, the largest distance of its criteria that can be
-- judged (at least one failed); null when the verdict is unknown (suppressed, no data). Rounded to 0.001.
-- Composite score = round(100 x sum(w x (1 - d)) / sum(w), 1) over the targets with a distance and a
-- weight above 0 (seed evaluation_weights). A suppressed or missing figure is left out, never scored 0;
-- weight_scored_pct says how much of the weight the score stands on, and the score is null when nothing
-- can be scored. Rank in the class: rank() by score, ties share a rank; unscored counties get none.

with attainment as not materialized (
    select * from {{ ref('target_attainment') }}
    where geography_level = 'county'
),

criteria as not materialized (
    select * from {{ ref('target_criteria') }}
    where geography_level = 'county' and assessed and comparison <> 'report'
),

weights as not materialized (
    select * from {{ ref('evaluation_weights') }}
),

classes (evaluation_class, class_zh, class_en) as (
    values
    ('group12', '12县', 'the 12 counties'),
    ('group29_other', '29县中其余县', 'the other counties of the 29'),
    ('developed', '发达地区县', 'developed-area counties'),
    ('other', '其他县', 'the other counties')
),

counties as (
    select
        geography_code as county_code,
        geography_name as county_name,
        city_name,
        case
            when is_12 then 'group12'
            when is_29 then 'group29_other'
            when area_type = 'developed' then 'developed'
            else 'other'
        end as evaluation_class
    from {{ ref('geography') }}
    where geography_level = 'county'
),

labels as (
    select
        plan,
        id as target_id,
        min(label_zh) as label_zh,
        min(label_en) as label_en
    from {{ ref('targets') }}
    group by plan, id
),

criterion_distances as (
    select
        plan,
        target_id,
        geography_code,
        year,
        max(case
            when comparison in ('ge', 'gt') and threshold > 0 and value is not null
                then least(1, greatest(0, (threshold - value) / threshold))
            when comparison = 'le' and threshold > 0 and value is not null
                then least(1, greatest(0, (value - threshold) / threshold))
            when met is not null then case when met then 0 else 1 end
        end) as distance,
        bool_or(obs_conf in ('C', 'D')) as any_hidden
    from criteria
    group by plan, target_id, geography_code, year
),

judged as (
    select
        a.plan,
        c.evaluation_class,
        a.geography_code as county_code,
        c.county_name,
        c.city_name,
        a.year,
        a.target_id,
        a.met,
        a.value,
        a.unit,
        a.comparison,
        a.threshold,
        a.obs_status,
        a.obs_conf,
        a.vintage,
        case
            when a.met then 'met'
            when not a.met then 'not_met'
            when a.obs_conf in ('C', 'D') or d.any_hidden then 'suppressed'
            else 'no_data'
        end as status,
        case
            when a.met then 0
            when not a.met then round(d.distance, 3)
        end as distance
    from attainment as a
    inner join counties as c on a.geography_code = c.county_code
    left join criterion_distances as d
        on
            a.plan = d.plan and a.target_id = d.target_id and a.geography_code = d.geography_code
            and a.year = d.year
    where a.criteria_n > 0
),

weighted as (
    select
        j.*,
        -- the most specific row of the seed: target and class, target, '*' and class, '*'; else 1
        coalesce((
            select w.weight
            from weights as w
            where
                w.plan = j.plan and w.target_id in (j.target_id, '*')
                and (w.evaluation_class = j.evaluation_class or w.evaluation_class is null)
            order by (w.target_id = '*'), (w.evaluation_class is null)
            limit 1
        ), 1) as weight
    from judged as j
),

county_years as (
    select
        plan,
        evaluation_class,
        county_code,
        year,
        count(*) filter (where weight > 0) as targets_n,
        count(*) filter (where weight > 0 and distance is not null) as targets_scored_n,
        count(*) filter (where weight > 0 and status = 'met') as targets_met_n,
        count(*) filter (where weight > 0 and status = 'not_met') as targets_not_met_n,
        count(*) filter (where weight > 0 and status = 'suppressed') as targets_suppressed_n,
        count(*) filter (where weight > 0 and status = 'no_data') as targets_no_data_n,
        sum(weight) filter (where weight > 0) as weight_total,
        sum(weight) filter (where weight > 0 and distance is not null) as weight_scored,
        sum(weight * (1 - distance)) filter (where weight > 0 and distance is not null) as weighted_attainment
    from weighted
    group by plan, evaluation_class, county_code, year
),

scored as (
    select
        cy.*,
        case when cy.weight_scored > 0 then round(100 * cy.weighted_attainment / cy.weight_scored, 1) end
            as score,
        case when cy.weight_total > 0 then round(100 * coalesce(cy.weight_scored, 0) / cy.weight_total, 1) end
            as weight_scored_pct
    from county_years as cy
),

ranked as (
    select
        s.*,
        case when s.score is not null then rank() over (
            partition by s.plan, s.evaluation_class, s.year, (s.score is null) order by s.score desc
        ) end as rank_in_class,
        count(s.score) over (partition by s.plan, s.evaluation_class, s.year) as counties_ranked_n,
        count(*) over (partition by s.plan, s.evaluation_class, s.year) as counties_in_class_n
    from scored as s
),

final as (
    select
        w.plan::text as plan,
        w.evaluation_class::text as evaluation_class,
        k.class_zh::text as class_zh,
        k.class_en::text as class_en,
        w.county_code::text as county_code,
        w.county_name::text as county_name,
        w.city_name::text as city_name,
        w.year::integer as year,
        w.target_id::text as target_id,
        l.label_zh::text as label_zh,
        l.label_en::text as label_en,
        w.status::text as status,
        w.met::boolean as met,
        w.value::numeric as value,
        w.unit::text as unit,
        w.comparison::text as comparison,
        w.threshold::numeric as threshold,
        w.distance::numeric(4, 3) as distance,
        w.weight::numeric as weight,
        w.obs_status::text as obs_status,
        w.obs_conf::text as obs_conf,
        w.vintage::timestamptz as vintage,
        r.targets_n::integer as targets_n,
        r.targets_scored_n::integer as targets_scored_n,
        r.targets_met_n::integer as targets_met_n,
        r.targets_not_met_n::integer as targets_not_met_n,
        r.targets_suppressed_n::integer as targets_suppressed_n,
        r.targets_no_data_n::integer as targets_no_data_n,
        r.weight_scored_pct::numeric(4, 1) as weight_scored_pct,
        r.score::numeric(4, 1) as score,
        r.rank_in_class::integer as rank_in_class,
        r.counties_ranked_n::integer as counties_ranked_n,
        r.counties_in_class_n::integer as counties_in_class_n,
        '{{ evaluation_formula_zh() }}'::text as score_formula_zh,
        '{{ evaluation_formula_en() }}'::text as score_formula_en
    from weighted as w
    inner join ranked as r
        on w.plan = r.plan and w.county_code = r.county_code and w.year = r.year
    inner join classes as k on w.evaluation_class = k.evaluation_class
    left join labels as l on w.plan = l.plan and w.target_id = l.target_id
)

select * from final
