-- The submission ledger (one row per received file), with the current vintage of each
-- county/template/year flagged by the same rule every staging model applies.

with submissions as (
    select * from {{ source('ops', 'submissions') }}
),

current_submissions as (
    {{ current_submissions() }}
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
        submissions.explanation,
        current_submissions.submission_id is not null as is_current
    from submissions
    left join current_submissions on current_submissions.submission_id = submissions.id
)

select * from final
