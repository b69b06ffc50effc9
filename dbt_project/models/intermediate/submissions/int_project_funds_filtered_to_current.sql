-- The rows of project_funds (扶贫项目资金公告表) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__project_funds') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'project_funds'
),

final as (
    select
        rows_of_files.county_code,
        rows_of_files.year,
        rows_of_files.project_id,
        rows_of_files.project_name,
        rows_of_files.project_type,
        rows_of_files.village_code,
        rows_of_files.fund_source,
        rows_of_files.amount_allocated,
        rows_of_files.amount_disbursed,
        rows_of_files.beneficiary_households,
        rows_of_files.announced_on,
        rows_of_files.announcement_ends_on,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
