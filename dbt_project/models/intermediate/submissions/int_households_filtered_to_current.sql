-- The rows of households (低收入农户登记表) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__households') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'households'
),

final as (
    select
        rows_of_files.household_key,
        rows_of_files.head_person_key,
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.township_name,
        rows_of_files.village_code,
        rows_of_files.village_name,
        rows_of_files.household_size,
        rows_of_files.labour_count,
        rows_of_files.is_dibao,
        rows_of_files.identified_year,
        rows_of_files.poverty_cause,
        rows_of_files.status,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
