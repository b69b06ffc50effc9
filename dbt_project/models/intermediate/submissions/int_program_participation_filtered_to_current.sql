-- The rows of program_participation (帮扶项目台账) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__program_participation') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'program_participation'
),

final as (
    select
        rows_of_files.household_key,
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.program_code,
        rows_of_files.program_zh,
        rows_of_files.persons,
        rows_of_files.program_income,
        rows_of_files.loan_amount,
        rows_of_files.loan_rate_pct,
        rows_of_files.repaid_on_time,
        rows_of_files.interest_subsidy,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
