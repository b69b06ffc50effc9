-- Villages by year: every village a county's files name that year (village ledger, household register,
-- relocation ledger), with the key/weak flags of the village ledger.

with ledger as (
    select * from {{ ref('int_villages_filtered_to_current') }}
),

register as (
    select * from {{ ref('int_households_filtered_to_current') }}
),

relocations as (
    select * from {{ ref('int_relocations_filtered_to_current') }}
),

named_villages as (
    select
        village_code,
        county_code,
        year
    from ledger
    union
    select
        village_code,
        county_code,
        year
    from register
    where village_code is not null
    union
    select
        from_village_code,
        county_code,
        year
    from relocations
    where from_village_code is not null
),

villages as (
    -- the code's first six digits are its county (validated on ingestion); one row per village-year
    select
        village_code,
        year,
        min(county_code) as county_code
    from named_villages
    group by village_code, year
),

ledger_years as (
    select distinct
        county_code,
        year
    from ledger
),

final as (
    select
        {{ surrogate_key(['villages.village_code', 'villages.year']) }} as village_key,
        villages.village_code,
        coalesce(ledger.county_code, villages.county_code) as county_code,
        villages.year,
        ledger.village_name,
        -- not in the county's ledger of that year: neither key nor weak; no ledger that year: unknown
        case
            when ledger.village_code is not null then ledger.is_key_village
            when ledger_years.county_code is not null then false
        end as is_key_village,
        case
            when ledger.village_code is not null then ledger.is_weak_village
            when ledger_years.county_code is not null then false
        end as is_weak_village,
        ledger.village_code is not null as in_village_ledger
    from villages
    left join ledger
        on villages.village_code = ledger.village_code and villages.year = ledger.year
    left join ledger_years
        on villages.county_code = ledger_years.county_code and villages.year = ledger_years.year
)

select * from final
