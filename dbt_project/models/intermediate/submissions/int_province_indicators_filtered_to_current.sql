-- The rows of province_indicators (全省指标) that count: those of the current submission of each county and
-- year (int_submissions_filtered_to_current), with that file's vintage.

with rows_of_files as (
    select * from {{ ref('stg_raw__province_indicators') }}
),

current_submissions as (
    select
        submission_id,
        vintage
    from {{ ref('int_submissions_filtered_to_current') }}
    where template = 'province_indicators'
),

final as (
    select
        rows_of_files.year,
        rows_of_files.province_rural_per_capita_net_income,
        rows_of_files.benchmark_rate_pct,
        rows_of_files.province_urban_per_capita_disposable_income,
        rows_of_files.submission_id,
        rows_of_files.source_row,
        current_submissions.vintage
    from rows_of_files
    inner join current_submissions on rows_of_files.submission_id = current_submissions.submission_id
)

select * from final
