-- The household register (低收入农户登记表).
-- Names, ID numbers and the county's household number stay in raw: the household and its head are
-- identified by the loader's keyed hashes.

-- The columns are named, never `*`: the transformer role may read every column of raw.households but
-- the head's name and ID number (column privileges, lowincome.warehouse.ROLE_GRANTS).
with source as (
    select
        household_key,
        head_person_key,
        county_code,
        year,
        township_name,
        village_code,
        village_name,
        household_size,
        labour_count,
        is_dibao,
        identified_year,
        poverty_cause,
        status,
        _submission_id,
        _source_row
    from {{ source('raw', 'households') }}
),

final as (
    select
        source.household_key,
        source.head_person_key,
        source.county_code,
        source.year::integer as year,
        source.township_name,
        source.village_code,
        source.village_name,
        source.household_size,
        source.labour_count,
        source.is_dibao,
        source.identified_year::integer as identified_year,
        source.poverty_cause,
        source.status,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
