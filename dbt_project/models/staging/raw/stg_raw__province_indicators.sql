-- Province-wide indicators (全省指标) sent by the provincial statistics bureau.

with source as (
    select * from {{ source('raw', 'province_indicators') }}
),

final as (
    select
        source.year::integer as year,
        source.province_rural_per_capita_net_income,
        source.benchmark_rate_pct,
        source.province_urban_per_capita_disposable_income,
        source._submission_id as submission_id,
        source._source_row as source_row
    from source
)

select * from final
