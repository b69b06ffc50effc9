-- The rows of household_income (低收入农户收入监测表) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__household_income') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'household_income'
),

final as (
    select
        rows_of_files.household_key,
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.household_size,
        rows_of_files.wage_income,
        rows_of_files.business_income,
        rows_of_files.property_income,
        rows_of_files.transfer_income,
        rows_of_files.net_income,
        rows_of_files.per_capita_net_income,
        rows_of_files.consumption_expenditure,
        rows_of_files.education_expenditure,
        rows_of_files.medical_expenditure,
        rows_of_files.education_aid,
        rows_of_files.medical_aid,
        rows_of_files.employed_labour,
        rows_of_files.trained_persons,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
