-- Collective economy and assistance of key and weak villages per year (村级经济).
-- Incremental by vintage (macros/incremental_vintages.sql).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['county_code', 'year'],
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['submission_id']}, {'columns': ['county_code', 'year']}],
        pre_hook="{{ delete_superseded_rows('villages') }}",
    )
}}

with pending as (
    {{ pending_submissions('villages') }}
),

villages as (
    select * from {{ ref('int_villages_filtered_to_current') }}
    where {{ in_submissions('submission_id', 'select submission_id from pending') }}
),

final as (
    select
        {{ surrogate_key(['village_code', 'year']) }} as village_key,
        village_code,
        county_code,
        year,
        is_key_village,
        is_weak_village,
        collective_operating_income,
        pairing_funds,
        nullif(trim(pairing_unit), '') is not null as has_pairing_unit,
        tech_extension_covered,
        processing_covered,
        has_mutual_aid_fund,
        submission_id,
        vintage
    from villages
)

select * from final
