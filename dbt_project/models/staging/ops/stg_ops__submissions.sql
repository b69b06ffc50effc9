-- The submission ledger (one row per received file). Which file of a county, template and year counts:
-- int_submissions_filtered_to_current.

with submissions as (
    select * from {{ source('ops', 'submissions') }}
),

final as (
    select
        submissions.id as submission_id,
        submissions.county_code,
        submissions.template,
        submissions.year::integer as year,
        submissions.status,
        submissions.received_at as vintage,
        submissions.received_on,
        submissions.rows_read,
        submissions.rows_loaded,
        submissions.rows_rejected,
        submissions.rows_warned,
        submissions.superseded_by,
        submissions.reason_code,
        submissions.explanation
    from submissions
)

select * from final
