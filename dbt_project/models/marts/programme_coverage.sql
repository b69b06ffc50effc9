-- Programme coverage (帮扶项目) per geography and year: skills training (P5), processing of supplied
-- materials (P2), agritourism revenue per household (P3), poverty micro-credit leverage and rate
-- compliance (F1), mutual-aid funds (F2), technology demonstration (P1), and the key and weak
-- villages' collective income and pairing funds (P4, M2), processing coverage of key villages (P6), and
-- participation in household industry, employment assistance and public-welfare jobs.

{% set programmes = ['household_industry', 'employment', 'public_welfare_job'] %}
{% set figures = {
    'training_participants': 'training_participants',
    'trained_per_labourer_pct': 'li_trained_share',
    'processing_workers': 'processing_workers',
    'processing_fees': 'processing_fees',
    'processing_participants': 'processing_participants',
    'agritourism_households': ['agritourism_revenue_per_household', 'households_n'],
    'agritourism_revenue_per_household': 'agritourism_revenue_per_household',
    'microcredit_leverage': 'microcredit_leverage',
    'microcredit_rate_compliant_pct': 'microcredit_rate_compliance',
    'on_time_loans_subsidised_pct': 'microcredit_on_time_interest_subsidy_share',
    'mutual_aid_funds_new_since_2013': 'mutual_aid_funds_new_since_2013',
    'tech_demo_industries': 'tech_demo_industries',
    'key_villages_tech_extension_pct': 'key_villages_tech_extension_share',
    'key_villages': 'key_villages',
    'key_or_weak_villages': 'key_or_weak_villages',
    'collective_income_ge_50000_pct': 'villages_collective_income_ge_50000_share',
    'pairing_funds_ge_50000_pct': 'key_villages_pairing_funds_ge_50000_share',
    'key_village_agritourism_households': ['key_village_agritourism_revenue_per_household', 'households_n'],
    'key_village_agritourism_revenue_per_household': 'key_village_agritourism_revenue_per_household',
    'paired_villages_funds_ge_50000_pct': 'paired_villages_funds_ge_50000_share',
    'key_villages_without_pairing_unit': 'key_villages_without_pairing_unit',
    'key_villages_processing_covered_pct': 'key_villages_processing_covered_share',
    'mutual_aid_funds_total': 'mutual_aid_funds_total',
    'ever_trained_pct': 'li_ever_trained_share',
} %}
{%- for programme in programmes %}
    {%- do figures.update({
        programme ~ '_households': [programme ~ '_participants', 'households_n'],
        programme ~ '_participants': programme ~ '_participants',
        programme ~ '_programme_income': programme ~ '_programme_income',
    }) %}
{%- endfor %}

with {{ theme_pivot(
    figures=figures,
    verdicts={
        'tech_demo_met': 'P1',
        'processing_met': 'P2',
        'agritourism_met': 'P3',
        'collective_income_met': 'P4',
        'pairing_funds_met': 'M2',
        'microcredit_met': 'F1',
        'mutual_aid_funds_met': 'F2',
        'processing_coverage_met': 'P6',
    },
) }},

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
        {% for program in programmes -%}
        f.{{ program }}_households::integer as {{ program }}_households,
        f.{{ program }}_participants::integer as {{ program }}_participants,
        f.{{ program }}_programme_income::numeric(16, 0) as {{ program }}_programme_income
        {%- if not loop.last %},
        {% endif %}
        {%- endfor %}
    {{ theme_join() }}
)

select * from final
