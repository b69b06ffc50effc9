-- Relocated households (异地搬迁台账). The county's relocation and household
-- numbers stay in raw; their keyed hashes identify the relocation and (when in the register) the household.

with source as (
    select * from {{ source('raw', 'relocations') }}
),

final as (
    select
        source.relocation_key,
        source.household_key,
        source.county_code,
        source.year::integer as year,
        source.from_village_code,
        source.relocation_type,
        source.settlement_type,
        source.settlement_site,
        source.persons,
        source.move_date,
        source.household_subsidy,
        source.county_infra_subsidy,
        source.land_area_m2,
        source.homestead_reclaimed,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
