-- Assistance programme participation (帮扶项目台账); the programme as its English code.

with source as (
    select * from {{ source('raw', 'program_participation') }}
),

programs as (
    select * from {{ ref('programs') }}
),

final as (
    select
        source.household_key,
        source.county_code,
        source.year::integer as year,
        programs.program_code,
        source.program as program_zh,
        source.persons,
        source.program_income,
        source.loan_amount,
        source.loan_rate_pct,
        source.repaid_on_time,
        source.interest_subsidy,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
    -- ingestion stores the Chinese value; an English code that slipped through maps as well
    left join programs on source.program in (programs.program_zh, programs.program_code)
)

select * from final
