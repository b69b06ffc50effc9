-- Relocated households per year (异地搬迁), with the housing land quota of their relocation type.
-- Incremental by vintage (macros/incremental_vintages.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['county_code', 'year'],
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['submission_id']}, {'columns': ['county_code', 'year']}],
        pre_hook="{{ delete_superseded_rows('relocations') }}",
    )
}}

with pending as (
    {{ pending_submissions('relocations') }}
),

relocations as (
    select * from {{ ref('int_relocations_filtered_to_current') }}
    where {{ in_submissions('submission_id', 'select submission_id from pending') }}
),

relocation_types as (
    select * from {{ ref('relocation_types') }}
),

final as (
    select
        {{ surrogate_key(['relocations.relocation_key', 'relocations.year']) }} as relocation_year_key,
        relocations.relocation_key,
        relocations.county_code,
        relocations.year,
        relocations.household_key,
        relocations.from_village_code,
        relocations.relocation_type,
        relocations.settlement_type,
        relocations.persons,
        relocations.move_date,
        relocations.household_subsidy,
        relocations.county_infra_subsidy,
        relocations.land_area_m2,
        relocation_types.land_quota_m2_per_person,
        relocations.homestead_reclaimed,
        relocations.submission_id,
        relocations.vintage
    from relocations
    left join relocation_types on relocations.relocation_type = relocation_types.relocation_type
)

select * from final
