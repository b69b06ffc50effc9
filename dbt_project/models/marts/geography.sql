-- The geographies every mart reports on: ~90 counties, 11 cities, the 29 and the 12 counties, the province.

with counties as not materialized (
    select * from {{ ref('dim_county') }}
),

county_rows as (
    select
        'county' as geography_level,
        county_code as geography_code,
        county_name as geography_name,
        city_code,
        city_name,
        is_29,
        is_12,
        area_type,
        1 as counties_n
    from counties
),

city_rows as (
    select
        'city' as geography_level,
        city_code as geography_code,
        min(city_name) as geography_name,
        city_code,
        min(city_name) as city_name,
        null::boolean as is_29,
        null::boolean as is_12,
        null::text as area_type,
        count(*)::integer as counties_n
    from counties
    group by city_code
),

group_rows as (
    select
        'group29' as geography_level,
        'group29' as geography_code,
        '29县' as geography_name,
        null as city_code,
        null as city_name,
        true as is_29,
        null::boolean as is_12,
        null as area_type,
        count(*)::integer as counties_n
    from counties
    where is_29
    union all
    select
        'group12' as geography_level,
        'group12' as geography_code,
        '12县' as geography_name,
        null as city_code,
        null as city_name,
        true as is_29,
        true as is_12,
        null as area_type,
        count(*)::integer as counties_n
    from counties
    where is_12
    union all
    select
        'province' as geography_level,
        '330000' as geography_code,
        '浙江省' as geography_name,
        null as city_code,
        null as city_name,
        null as is_29,
        null as is_12,
        null as area_type,
        count(*)::integer as counties_n
    from counties
),

unioned as (
    select * from county_rows
    union all
    select * from city_rows
    union all
    select * from group_rows
),

final as (
    select
        geography_level::text as geography_level,
        geography_code::text as geography_code,
        geography_name::text as geography_name,
        city_code::text as city_code,
        city_name::text as city_name,
        is_29,
        is_12,
        area_type::text as area_type,
        counties_n,
        (case geography_level
            when 'province' then 1 when 'group29' then 2 when 'group12' then 3 when 'city' then 4 else 5
        end)::integer as level_order
    from unioned
)

select * from final
