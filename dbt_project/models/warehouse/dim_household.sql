-- Households as a type-2 dimension over *years*: a new version starts in a year whose register shows a
-- change of village, status, 低保 flag, size, labour, cause or identification year, or when the household
-- returns to the register after a year without it. Derived from the yearly registers as a whole, so a
-- year loaded late (a backfill) rebuilds exactly the history an on-time load would have built.
-- Indexed by household_key: int_program_participation_summed_to_county_years looks up an agritourism
-- household's village of a year.
{{ config(indexes=[{'columns': ['household_key']}]) }}

with register as (
    select * from {{ ref('int_households_filtered_to_current') }}
),

county_latest as (
    -- the latest register year of each county: a version still held then is current
    select
        county_code,
        max(year) as latest_year
    from register
    group by county_code
),

tracked as (
    select
        household_key,
        county_code,
        year,
        village_code,
        status,
        is_dibao,
        household_size,
        labour_count,
        poverty_cause,
        identified_year,
        -- record_out quotes and separates every field, so two states compare equal only when all do
        row(
            village_code, status, is_dibao, household_size, labour_count, poverty_cause, identified_year
        )::text
            as state
    from register
),

compared as (
    select
        *,
        lag(year) over by_year as previous_year,
        lag(state) over by_year as previous_state
    from tracked
    window by_year as (partition by household_key order by year)
),

flagged as (
    select
        *,
        case
            when previous_year is null then 1
            when previous_year <> year - 1 then 1
            when (previous_state is distinct from state) then 1
            else 0
        end as starts_version
    from compared
),

numbered as (
    select
        *,
        sum(starts_version) over (partition by household_key order by year) as version_number
    from flagged
),

versions as (
    select
        household_key,
        county_code,
        version_number,
        village_code,
        status,
        is_dibao,
        household_size,
        labour_count,
        poverty_cause,
        identified_year,
        min(year) as valid_from_year,
        max(year) as last_year
    from numbered
    group by
        household_key, county_code, version_number, village_code, status, is_dibao, household_size,
        labour_count, poverty_cause, identified_year
),

final as (
    select
        {{ surrogate_key(['versions.household_key', 'versions.valid_from_year']) }} as household_version_key,
        versions.household_key,
        versions.county_code,
        versions.village_code,
        versions.status,
        versions.is_dibao,
        versions.household_size,
        versions.labour_count,
        versions.poverty_cause,
        versions.identified_year,
        versions.valid_from_year,
        case when versions.last_year < county_latest.latest_year then versions.last_year end as valid_to_year,
        versions.last_year >= county_latest.latest_year as is_current
    from versions
    inner join county_latest on versions.county_code = county_latest.county_code
)

select * from final
