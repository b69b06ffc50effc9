-- Which geographies each county counts towards: itself, its city, the 29, the 12 and the province.
-- Every group figure is rolled up from county partial sums through this bridge.

with counties as not materialized (
    select * from {{ ref('dim_county') }}
),

final as (
    select
        county_code,
        'county' as geography_level,
        county_code as geography_code
    from counties
    union all
    select
        county_code,
        'city' as geography_level,
        city_code as geography_code
    from counties
    union all
    select
        county_code,
        'group29' as geography_level,
        'group29' as geography_code
    from counties
    where is_29
    union all
    select
        county_code,
        'group12' as geography_level,
        'group12' as geography_code
    from counties
    where is_12
    union all
    select
        county_code,
        'province' as geography_level,
        '330000' as geography_code
    from counties
)

select * from final
