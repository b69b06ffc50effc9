-- Programme coverage (帮扶项目) per geography and year: skills training (P5), processing of supplied
-- materials (P2), agritourism revenue per household (P3), poverty micro-credit leverage and rate
-- compliance (F1), mutual-aid funds (F2), technology demonstration (P1), and the key and weak
-- villages' collective income and pairing funds (P4, M2), processing coverage of key villages (P6), and
-- participation in household industry, employment assistance and public-welfare jobs.

with indicators as not materialized (
    select * from {{ ref('indicator_values') }}
    where metric in (
        'training_participants', 'li_trained_share', 'processing_workers', 'processing_fees',
        'processing_participants', 'agritourism_revenue_per_household', 'microcredit_leverage',
        'microcredit_rate_compliance', 'microcredit_on_time_interest_subsidy_share',
        'mutual_aid_funds_new_since_2013', 'tech_demo_industries', 'key_villages_tech_extension_share',
        'key_villages', 'key_or_weak_villages', 'villages_collective_income_ge_50000_share',
        'key_villages_pairing_funds_ge_50000_share', 'key_village_agritourism_revenue_per_household',
        'paired_villages_funds_ge_50000_share', 'key_villages_without_pairing_unit',
        'key_villages_processing_covered_share', 'mutual_aid_funds_total', 'li_ever_trained_share',
        'household_industry_participants', 'household_industry_programme_income',
        'employment_participants', 'employment_programme_income',
        'public_welfare_job_participants', 'public_welfare_job_programme_income'
    )
),

attainment as not materialized (
    select * from {{ ref('target_attainment') }}
    where
        target_id in ('P1', 'P2', 'P3', 'P4', 'P6', 'M2', 'F1', 'F2')
        and plan = '{{ var("current_plan", "2013-2017") }}'
),

figures as (
    select
        geography_level,
        geography_code,
        max(geography_name) as geography_name,
        year,
        max(value) filter (where metric = 'training_participants') as training_participants,
        max(value) filter (where metric = 'li_trained_share') as trained_per_labourer_pct,
        max(value) filter (where metric = 'processing_workers') as processing_workers,
        max(value) filter (where metric = 'processing_fees') as processing_fees,
        max(value) filter (where metric = 'processing_participants') as processing_participants,
        max(households_n) filter (where metric = 'agritourism_revenue_per_household')
            as agritourism_households,
        max(value) filter (where metric = 'agritourism_revenue_per_household')
            as agritourism_revenue_per_household,
        max(value) filter (where metric = 'microcredit_leverage') as microcredit_leverage,
        max(value) filter (where metric = 'microcredit_rate_compliance') as microcredit_rate_compliant_pct,
        max(value) filter (where metric = 'microcredit_on_time_interest_subsidy_share')
            as on_time_loans_subsidised_pct,
        max(value) filter (where metric = 'mutual_aid_funds_new_since_2013')
            as mutual_aid_funds_new_since_2013,
        max(value) filter (where metric = 'tech_demo_industries') as tech_demo_industries,
        max(value) filter (where metric = 'key_villages_tech_extension_share')
            as key_villages_tech_extension_pct,
        max(value) filter (where metric = 'key_villages') as key_villages,
        max(value) filter (where metric = 'key_or_weak_villages') as key_or_weak_villages,
        max(value) filter (where metric = 'villages_collective_income_ge_50000_share')
            as collective_income_ge_50000_pct,
        max(value) filter (where metric = 'key_villages_pairing_funds_ge_50000_share')
            as pairing_funds_ge_50000_pct,
        max(households_n) filter (where metric = 'key_village_agritourism_revenue_per_household')
            as key_village_agritourism_households,
        max(value) filter (where metric = 'key_village_agritourism_revenue_per_household')
            as key_village_agritourism_revenue_per_household,
        max(value) filter (where metric = 'paired_villages_funds_ge_50000_share')
            as paired_villages_funds_ge_50000_pct,
        max(value) filter (where metric = 'key_villages_without_pairing_unit')
            as key_villages_without_pairing_unit,
        max(value) filter (where metric = 'key_villages_processing_covered_share')
            as key_villages_processing_covered_pct,
        max(value) filter (where metric = 'mutual_aid_funds_total') as mutual_aid_funds_total,
        max(value) filter (where metric = 'li_ever_trained_share') as ever_trained_pct,
        {%- for program in ['household_industry', 'employment', 'public_welfare_job'] %}
        max(households_n) filter (where metric = '{{ program }}_participants') as {{ program }}_households,
        max(value) filter (where metric = '{{ program }}_participants') as {{ program }}_participants,
        max(value) filter (where metric = '{{ program }}_programme_income') as {{ program }}_programme_income,
        {%- endfor %}
        {{ theme_row_flags() }}
    from indicators
    group by geography_level, geography_code, year
),

verdicts as (
    select
        geography_level,
        geography_code,
        year,
        bool_or(met) filter (where target_id = 'P1') as tech_demo_met,
        bool_or(met) filter (where target_id = 'P2') as processing_met,
        bool_or(met) filter (where target_id = 'P3') as agritourism_met,
        bool_or(met) filter (where target_id = 'P4') as collective_income_met,
        bool_or(met) filter (where target_id = 'M2') as pairing_funds_met,
        bool_or(met) filter (where target_id = 'F1') as microcredit_met,
        bool_or(met) filter (where target_id = 'F2') as mutual_aid_funds_met,
        bool_or(met) filter (where target_id = 'P6') as processing_coverage_met
    from attainment
    group by geography_level, geography_code, year
),

final as (
    select
        {{ theme_key_columns('f') }},
        f.training_participants::integer as training_participants,
        f.trained_per_labourer_pct::numeric(5, 1) as trained_per_labourer_pct,
        f.processing_workers::integer as processing_workers,
        f.processing_fees::numeric(16, 0) as processing_fees,
        f.processing_participants::integer as processing_participants,
        v.processing_met::boolean as processing_met,
        f.agritourism_households::integer as agritourism_households,
        f.agritourism_revenue_per_household::numeric(12, 0) as agritourism_revenue_per_household,
        v.agritourism_met::boolean as agritourism_met,
        f.microcredit_leverage::numeric(8, 3) as microcredit_leverage,
        f.microcredit_rate_compliant_pct::numeric(4, 1) as microcredit_rate_compliant_pct,
        f.on_time_loans_subsidised_pct::numeric(4, 1) as on_time_loans_subsidised_pct,
        v.microcredit_met::boolean as microcredit_met,
        f.mutual_aid_funds_new_since_2013::integer as mutual_aid_funds_new_since_2013,
        v.mutual_aid_funds_met::boolean as mutual_aid_funds_met,
        f.tech_demo_industries::integer as tech_demo_industries,
        f.key_villages_tech_extension_pct::numeric(4, 1) as key_villages_tech_extension_pct,
        v.tech_demo_met::boolean as tech_demo_met,
        f.key_villages::integer as key_villages,
        f.key_or_weak_villages::integer as key_or_weak_villages,
        f.collective_income_ge_50000_pct::numeric(4, 1) as collective_income_ge_50000_pct,
        v.collective_income_met::boolean as collective_income_met,
        f.pairing_funds_ge_50000_pct::numeric(4, 1) as pairing_funds_ge_50000_pct,
        v.pairing_funds_met::boolean as pairing_funds_met,
        {{ theme_flag_columns('f') }},
        -- added by issue 24 (the plan's own definitions, P6, the programme breakdowns)
        f.key_village_agritourism_households::integer as key_village_agritourism_households,
        f.key_village_agritourism_revenue_per_household::numeric(12, 0)
            as key_village_agritourism_revenue_per_household,
        f.paired_villages_funds_ge_50000_pct::numeric(4, 1) as paired_villages_funds_ge_50000_pct,
        f.key_villages_without_pairing_unit::integer as key_villages_without_pairing_unit,
        f.key_villages_processing_covered_pct::numeric(4, 1) as key_villages_processing_covered_pct,
        v.processing_coverage_met::boolean as processing_coverage_met,
        f.mutual_aid_funds_total::integer as mutual_aid_funds_total,
        f.ever_trained_pct::numeric(4, 1) as ever_trained_pct,
        {% for program in ['household_industry', 'employment', 'public_welfare_job'] -%}
        f.{{ program }}_households::integer as {{ program }}_households,
        f.{{ program }}_participants::integer as {{ program }}_participants,
        f.{{ program }}_programme_income::numeric(16, 0) as {{ program }}_programme_income
        {%- if not loop.last %},
        {% endif %}
        {%- endfor %}
    from figures as f
    left join verdicts as v
        on f.geography_level = v.geography_level and f.geography_code = v.geography_code and f.year = v.year
)

select * from final
