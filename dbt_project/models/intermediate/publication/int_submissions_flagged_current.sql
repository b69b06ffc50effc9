-- Every file of the ledger, with whether it is the current one of its county, template and year
-- (int_submissions_filtered_to_current): what submission_completeness reports on.

with submissions as (
    select * from {{ ref('stg_ops__submissions') }}
),

current_submissions as (
    select submission_id from {{ ref('int_submissions_filtered_to_current') }}
),

final as (
    select
        submissions.submission_id,
        submissions.county_code,
        submissions.template,
        submissions.year,
        submissions.status,
        submissions.vintage,
        submissions.received_on,
        submissions.rows_read,
        submissions.rows_loaded,
        submissions.rows_rejected,
        submissions.rows_warned,
        submissions.superseded_by,
        submissions.reason_code,
        submissions.explanation,
        current_submissions.submission_id is not null as is_current
    from submissions
    left join current_submissions on submissions.submission_id = current_submissions.submission_id
)

select * from final
