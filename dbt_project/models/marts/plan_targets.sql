-- The plan's targets as published: the seed `targets`, one row per criterion, with whether the
-- submission templates carry the data to assess it.

with targets as not materialized (
    select * from {{ ref('targets') }}
),

final as (
    select
        (plan || ':' || id || '.' || criterion)::text as criterion_key,
        plan::text as plan,
        id::text as target_id,
        criterion::integer as criterion,
        description_zh::text as description_zh,
        description_en::text as description_en,
        metric::text as metric,
        comparison::text as comparison,
        threshold::numeric as threshold,
        population::text as population,
        assessed_at::text as assessed_at,
        base_year::integer as base_year,
        deadline_year::integer as deadline_year,
        label_zh::text as label_zh,
        label_en::text as label_en,
        (metric is not null) as collected
    from targets
)

select * from final
