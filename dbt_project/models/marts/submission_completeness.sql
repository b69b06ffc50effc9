-- What each county sent, per template and year, against the reporting calendar (报送情况): whether
-- an acceptable file arrived, whether on time, how many rows validation rejected, and the forced
-- submissions (上报说明: warnings the county accepted with an explanation). The data engineers' view.
-- On time means the receipt date the first accepted file carries (received_on, 报送日期) is on or before
-- the deadline; the night that loaded it (first_accepted_at) may be later.
-- Years run from the baseline to the latest year any file reports on.

with submissions as not materialized (
    select * from {{ ref('int_submissions_flagged_current') }}
    where county_code is not null and template is not null and year is not null
),

calendar as not materialized (
    select * from {{ ref('reporting_calendar') }}
),

counties as not materialized (
    select * from {{ ref('dim_county') }}
),

publication as (
    -- set by lowincome.publish.refresh_marts (see target_attainment_history)
    select
        '{{ env_var("LOWINCOME_PUBLISHED_AT", "") or run_started_at.isoformat() }}'::timestamptz
            as published_at
),

years_reported as (
    select max(year) as last_year from submissions
),

expected as (
    select
        c.county_code,
        c.county_name,
        c.city_code,
        cal.template,
        cal.year,
        cal.deadline
    from counties as c
    cross join calendar as cal
    cross join years_reported as y
    where
        cal.template <> 'province_indicators'
        and cal.year between {{ var('baseline_year', 2012) }} and y.last_year
    union all
    select
        '330000' as county_code,
        '浙江省' as county_name,
        '330000' as city_code,
        cal.template,
        cal.year,
        cal.deadline
    from calendar as cal
    cross join years_reported as y
    where
        cal.template = 'province_indicators'
        and cal.year between {{ var('baseline_year', 2012) }} and y.last_year
),

files as (
    select
        county_code,
        template,
        year,
        count(*) filter (where status <> 'duplicate') as files_received,
        count(*) filter (where status in ('loaded', 'superseded')) as files_accepted,
        count(*) filter (where status = 'rejected') as files_rejected,
        count(*) filter (where status = 'duplicate') as duplicates,
        min(vintage) filter (where status <> 'duplicate') as first_received_at,
        min(vintage) filter (where status in ('loaded', 'superseded')) as first_accepted_at,
        min(received_on) filter (where status <> 'duplicate') as first_received_on,
        min(received_on) filter (where status in ('loaded', 'superseded')) as first_accepted_on,
        max(vintage) filter (where is_current) as current_vintage,
        max(submission_id) filter (where is_current) as current_submission_id,
        max(rows_read) filter (where is_current) as rows_read,
        max(rows_loaded) filter (where is_current) as rows_loaded,
        max(rows_rejected) filter (where is_current) as rows_rejected,
        max(rows_warned) filter (where is_current) as rows_warned,
        count(*) filter (where explanation is not null and status <> 'duplicate') as forced_submissions,
        bool_or(explanation is not null) filter (where is_current) as current_is_forced,
        string_agg(distinct explanation, ' | ') filter (where explanation is not null) as explanations
    from submissions
    group by county_code, template, year
),

final as (
    select
        (e.county_code || '-' || e.template || '-' || e.year)::text as completeness_key,
        e.county_code::text as county_code,
        e.county_name::text as county_name,
        e.city_code::text as city_code,
        e.template::text as template,
        e.year::integer as year,
        e.deadline::date as deadline,
        (coalesce(f.files_accepted, 0) > 0) as received,
        coalesce(f.files_received, 0)::integer as files_received,
        coalesce(f.files_accepted, 0)::integer as files_accepted,
        coalesce(f.files_rejected, 0)::integer as files_rejected,
        coalesce(f.duplicates, 0)::integer as duplicates,
        f.first_received_at::timestamptz as first_received_at,
        f.first_accepted_at::timestamptz as first_accepted_at,
        f.first_received_on::date as first_received_on,
        f.first_accepted_on::date as first_accepted_on,
        f.first_accepted_on <= e.deadline as on_time,
        greatest(0, f.first_accepted_on - e.deadline)::integer as days_late,
        (case
            when f.first_accepted_on <= e.deadline then 'on_time'
            when f.first_accepted_on is not null then 'late'
            when (p.published_at at time zone 'Asia/Shanghai')::date <= e.deadline then 'not_due'
            when coalesce(f.files_rejected, 0) > 0 then 'rejected'
            else 'missing'
        end)::text as submission_state,
        f.current_submission_id::bigint as current_submission_id,
        f.current_vintage::timestamptz as vintage,
        f.rows_read::integer as rows_read,
        f.rows_loaded::integer as rows_loaded,
        f.rows_rejected::integer as rows_rejected,
        f.rows_warned::integer as rows_warned,
        round(100.0 * f.rows_rejected / nullif(f.rows_read, 0), 1)::numeric(4, 1) as rejected_rows_pct,
        coalesce(f.forced_submissions, 0)::integer as forced_submissions,
        coalesce(f.current_is_forced, false) as current_is_forced,
        f.explanations::text as explanations
    from expected as e
    cross join publication as p
    left join files as f on e.county_code = f.county_code and e.template = f.template and e.year = f.year
)

select * from final
