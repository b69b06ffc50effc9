-- Key villages and economically weak villages (扶贫重点村与经济薄弱村台账).

with source as (
    select * from {{ source('raw', 'villages') }}
),

final as (
    select
        source.county_code,
        source.year::integer as year,
        source.village_code,
        source.village_name,
        source.is_key_village,
        source.is_weak_village,
        source.collective_operating_income,
        source.pairing_unit,
        source.pairing_funds,
        source.tech_extension_covered,
        source.processing_covered,
        source.has_mutual_aid_fund,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
