-- Counties in scope, from the platform's county list (include/config/counties.csv via seed counties).

with counties as (
    select * from {{ ref('counties') }}
),

final as (
    select
        county_code,
        county_name,
        city_code,
        city_name,
        is_26,
        is_29,
        is_12,
        area_type,
        rural_population_10k,
        -- The list holds one period-correct code per county, in scope for every year monitored.
        {{ var('baseline_year') }}::integer as valid_from_year,
        null::integer as valid_to_year
    from counties
)

select * from final
