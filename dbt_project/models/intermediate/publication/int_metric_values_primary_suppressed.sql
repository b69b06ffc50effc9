{{ config(materialized='table') }}
{% set min_households = var('disclosure_min_households', 5) %}
-- Every figure before disclosure control, exact, with its primary suppression (docs/domain.md):
-- a figure computed from fewer than var('disclosure_min_households', 5) households is not published.
-- Kept as a table between the two steps of a publication: lowincome.publish.disclosure audits it (the
-- attacker's linear programmes) and writes the secondary suppression to ops.disclosure_suppression, which
-- int_metric_values_disclosure_controlled joins. Not published (schema intermediate).

with metrics as not materialized (
    select * from {{ ref('int_metric_values_computed') }}
),

final as (
    select
        metric, unit, geography_level, geography_code, year, value, households_n, units_n, units_kind,
        counties_n, vintage, templates,
        (households_n is not null and households_n < {{ min_households }}) as primary_suppressed
    from metrics
)

select * from final
