-- Annual income and spending of each household (低收入农户收入监测表).

with source as (
    select * from {{ source('raw', 'household_income') }}
),

final as (
    select
        source.household_key,
        source.county_code,
        source.year::integer as year,
        source.household_size,
        source.wage_income,
        source.business_income,
        source.property_income,
        source.transfer_income,
        source.net_income,
        source.per_capita_net_income,
        source.consumption_expenditure,
        source.education_expenditure,
        source.medical_expenditure,
        source.education_aid,
        source.medical_aid,
        source.employed_labour,
        source.trained_persons,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
