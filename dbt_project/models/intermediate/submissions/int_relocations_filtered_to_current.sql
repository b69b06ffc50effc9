-- The rows of relocations (异地搬迁台账) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__relocations') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'relocations'
),

final as (
    select
        rows_of_files.relocation_key,
        rows_of_files.household_key,
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.from_village_code,
        rows_of_files.relocation_type,
        rows_of_files.settlement_type,
        rows_of_files.settlement_site,
        rows_of_files.persons,
        rows_of_files.move_date,
        rows_of_files.household_subsidy,
        rows_of_files.county_infra_subsidy,
        rows_of_files.land_area_m2,
        rows_of_files.homestead_reclaimed,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
