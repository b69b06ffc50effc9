-- The one rule for "which file counts": per county, template and year, the latest submission still
-- loaded (ingestion marks the one it replaces 'superseded'; ranking by the vintage also covers two
-- 'loaded' rows should that ever happen). Every int_<template>_filtered_to_current joins it, and the
-- incremental facts (macros/incremental_vintages.sql) read their pending submissions from it.
--
-- DISTINCT ON, not `row_number() over (...) = 1`: PostgreSQL estimates a filter on a window function's
-- result at one row whatever the ledger holds, and the models joining these submissions to their rows
-- then ran nested loops quadratic in the rows. DISTINCT ON on the ledger's own columns is estimated from
-- their statistics (the number of county-template-year groups; macros/statistics.sql keeps them
-- current), and a filter on the template reaches inside it (a DISTINCT ON column).

with submissions as (
    select * from {{ ref('stg_ops__submissions') }}
),

final as (
    select distinct on (submissions.county_code, submissions.template, submissions.year)
        submissions.submission_id,
        submissions.county_code,
        submissions.template,
        submissions.year,
        submissions.vintage
    from submissions
    where submissions.status = 'loaded'
    order by
        submissions.county_code asc, submissions.template asc, submissions.year asc,
        submissions.vintage desc, submissions.submission_id desc
)

select * from final
