-- The rows of villages (扶贫重点村与经济薄弱村台账) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__villages') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'villages'
),

final as (
    select
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.village_code,
        rows_of_files.village_name,
        rows_of_files.is_key_village,
        rows_of_files.is_weak_village,
        rows_of_files.collective_operating_income,
        rows_of_files.pairing_unit,
        rows_of_files.pairing_funds,
        rows_of_files.tech_extension_covered,
        rows_of_files.processing_covered,
        rows_of_files.has_mutual_aid_fund,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
