-- Province-wide indicators per year (全省指标): the benchmark for T3 and F1.

with indicators as (
    select * from {{ ref('int_province_indicators_filtered_to_current') }}
),

final as (
    select
        year,
        province_rural_per_capita_net_income,
        benchmark_rate_pct,
        province_urban_per_capita_disposable_income,
        submission_id,
        vintage
    from indicators
)

select * from final
