-- Key villages and economically weak villages (扶贫重点村与经济薄弱村台账), current vintage only.

with source as (
    select * from {{ source('raw', 'villages') }}
),

current_submissions as (
    {{ current_submissions('villages') }}
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
        source._source_row as source_row,
        current_submissions.vintage
    from source
    inner join current_submissions on current_submissions.submission_id = source._submission_id
)

select * from final
