-- Relocation (异地搬迁) per geography and year: people relocated against 60,000 a year over the 29
-- counties (R1), subsidy per person against the standard 8,400 = 5,600 to the household + 2,800
-- county-level (R2), and housing land within the quota of 80 / 40 m2 per person (R3); the relocated by
-- type (搬迁类型), by settlement mode (安置方式) and those whose old homestead was reclaimed (宅基地复垦).
{% set breakdowns = ['type_geohazard', 'type_high_mountain', 'type_reservoir', 'type_fishing_boat',
                     'type_other', 'settled_county_town', 'settled_central_town', 'settled_small_town',
                     'settled_central_village'] %}

{% set figures = {
    'relocated_households': 'relocated_households',
    'relocated_persons': 'relocated_persons',
    'subsidy_per_person': 'relocation_subsidy_per_person',
    'household_subsidy_per_person': 'relocation_household_subsidy_per_person',
    'county_infra_subsidy_per_person': 'relocation_infra_subsidy_per_person',
    'land_within_quota_pct': 'relocation_land_quota_compliance',
    'households_homestead_reclaimed': 'relocated_households_homestead_reclaimed',
} %}
{%- for code in breakdowns %}
    {%- do figures.update({
        'households_' ~ code: 'relocated_households_' ~ code,
        'persons_' ~ code: 'relocated_persons_' ~ code,
    }) %}
{%- endfor %}

with {{ theme_pivot(
    figures=figures,
    verdicts={'persons_met': 'R1', 'subsidy_met': 'R2', 'land_quota_met': 'R3'},
    metric_patterns=[
        'relocated\\_households\\_type\\_%', 'relocated\\_persons\\_type\\_%',
        'relocated\\_households\\_settled\\_%', 'relocated\\_persons\\_settled\\_%',
    ],
) }},

targets as not materialized (
    select * from {{ ref('plan_targets') }}
    where target_id in ('R1', 'R2') and criterion = 1 and plan = '{{ var("current_plan", "2013-2017") }}'
),

final as (
    select
        {{ theme_key_columns('f') }},
        f.relocated_households::integer as relocated_households,
        f.relocated_persons::integer as relocated_persons,
        (
            select targets.threshold from targets
            where targets.target_id = 'R1'
        )::numeric(12, 0) as persons_target_29_counties,
        v.persons_met::boolean as persons_met,
        f.subsidy_per_person::numeric(12, 0) as subsidy_per_person,
        (
            select targets.threshold from targets
            where targets.target_id = 'R2'
        )::numeric(12, 0) as subsidy_standard,
        f.household_subsidy_per_person::numeric(12, 0) as household_subsidy_per_person,
        5600::numeric(12, 0) as household_subsidy_standard,
        f.county_infra_subsidy_per_person::numeric(12, 0) as county_infra_subsidy_per_person,
        2800::numeric(12, 0) as county_infra_subsidy_standard,
        v.subsidy_met::boolean as subsidy_met,
        f.land_within_quota_pct::numeric(4, 1) as land_within_quota_pct,
        v.land_quota_met::boolean as land_quota_met,
        {{ theme_flag_columns('f') }},
        -- added by issue 24: by relocation type, by settlement mode, and 宅基地复垦
        {%- for code in breakdowns %}
        f.households_{{ code }}::integer as households_{{ code }},
        f.persons_{{ code }}::integer as persons_{{ code }},
        {%- endfor %}
        f.households_homestead_reclaimed::integer as households_homestead_reclaimed
    {{ theme_join() }}
)

select * from final
