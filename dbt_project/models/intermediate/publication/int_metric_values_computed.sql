-- The one place where every metric of the plan is computed (docs/domain.md, "Definitions").
--
-- County-year partial sums of each fact (of the large ones kept in tables, recomputed only where their
-- inputs changed: partials/); those roll up through int_counties_fanned_out_to_geographies to the city,
-- the 29, the 12 and the province, so a group figure is always a ratio of sums (never a mean of county
-- ratios). Values here are exact and unsuppressed: this model is ephemeral and only
-- int_metric_values_disclosure_controlled reads it, which rounds and applies disclosure control.
--
-- Output: one row per metric x geography x year with
--   value          exact value in `unit` (yuan | percent | pp | ratio | count | persons | km)
--   households_n   households the value was computed from (null when not household-based);
--                  drives disclosure control (< 5 -> suppressed)
--   units_n, units_kind   what the value was computed from (households, villages, counties, loans)
--   counties_n     counties that contributed
--   vintage        latest load (received_at) among the contributing rows
--   templates      submission templates it depends on (for the reporting deadline -> obs_status)

{# breakdowns of the relocation ledger and the programme participation the theme marts show #}
{% set relocation_types = {'geohazard': '地质灾害隐患', 'high_mountain': '高山远山', 'reservoir': '水库库区',
                            'fishing_boat': '连家渔船', 'other': '其他'} %}
{% set settlement_types = {'county_town': '县城', 'central_town': '中心镇', 'small_town': '小城镇',
                            'central_village': '中心村'} %}
{% set breakdown_programs = ['household_industry', 'employment', 'public_welfare_job'] %}

{#
    The metrics, declared once as data. The `metrics` CTE at the end emits one select per entry, in this
    order, joined by `union all`. An entry gives
      metric, unit   the metric's name and unit (yuan | percent | pp | ratio | count | persons | km)
      comment        its definition (docs/domain.md, "Definitions"), written above its select
      from           the CTE it is computed from; `alias`, `join` and `on` where a second CTE is joined to
                     it (`from <from> as <alias> inner join <join> on <on>`: D1), the default columns then
                     read alias.column
      value          the value: SQL over that CTE's columns
      units_n        how many units (households | villages | counties) it was computed from
      where          the rows it exists for (none: every row of the CTE)
    and only where they differ from the defaults:
      households_n   units_n when the units are households, else null
      counties_n     units_n when the units are counties, else the CTE's counties_n
      vintage        the CTE's vintage
      templates, units_kind, units_n and the geography: those of the CTE (metric_sources)
#}
{#- the defaults of the metrics computed from each CTE #}
{%- set metric_sources = {
    'household_rollup': {'units_kind': 'households', 'templates': ['households', 'household_income']},
    'register_rollup': {'units_kind': 'households', 'templates': ['households']},
    'relocation_rollup': {'units_kind': 'households', 'units_n': 'relocated_households',
                          'templates': ['relocations']},
    'participation_rollup': {'units_kind': 'households', 'templates': ['program_participation']},
    'village_rollup': {'units_kind': 'villages', 'templates': ['villages']},
    'county_indicator_rollup': {'units_kind': 'counties', 'templates': ['county_indicators']},
    'county_indicator_values': {'units_kind': 'counties', 'units_n': '1', 'templates': ['county_indicators'],
                                'geography_level': "'county'", 'geography_code': 'county_code'},
    'province_indicators': {'units_kind': none, 'units_n': 'null::bigint', 'counties_n': 'null',
                            'templates': ['province_indicators'],
                            'geography_level': "'province'", 'geography_code': "'330000'"},
} %}

{#- monitored households: income, consumption, labour (household_rollup) and the register #}
{%- set metric_catalogue = [
    {'comment': 'T1: per-capita net income = sum(net_income) / sum(household_size), monitored households',
     'metric': 'li_per_capita_net_income', 'unit': 'yuan', 'from': 'household_rollup',
     'value': 'net_income / nullif(income_persons, 0)', 'units_n': 'income_households',
     'where': 'income_households > 0'},
    {'comment': 'T2 / S2: share of monitored non-低保 households whose own per-capita income is strictly'
                ' > 8000',
     'metric': 'li_share_above_8000_excl_dibao', 'unit': 'percent', 'from': 'household_rollup',
     'value': '100.0 * non_dibao_above_8000 / non_dibao_households', 'units_n': 'non_dibao_households',
     'where': 'non_dibao_households > 0'},
    {'comment': 'S2: the same share at or above 8000 (the plan: 达到8000元以上)',
     'metric': 'li_share_at_or_above_8000_excl_dibao', 'unit': 'percent', 'from': 'household_rollup',
     'value': '100.0 * non_dibao_at_or_above_8000 / non_dibao_households', 'units_n': 'non_dibao_households',
     'where': 'non_dibao_households > 0'},
    {'comment': 'D1: identified people (household_size of the monitored households) / rural registered'
                ' population',
     'metric': 'li_identified_share_of_rural_population', 'unit': 'percent',
     'from': 'household_rollup', 'alias': 'h', 'join': 'monitored_rural_population as r',
     'on': 'h.geography_level = r.geography_level and h.geography_code = r.geography_code'
           ' and h.year = r.year',
     'value': '100.0 * h.monitored_persons / (r.rural_population_10k * 10000)', 'units_n': 'h.monitored_n',
     'where': 'h.monitored_persons > 0 and r.rural_population_10k > 0'},
    {'metric': 'li_real_edu_med_share', 'unit': 'percent', 'from': 'household_rollup',
     'value': '100.0 * real_edu_med / consumption', 'units_n': 'consumption_households',
     'where': 'consumption_households > 0'},
    {'comment': 'T5: real share minus the local rural average share, in percentage points',
     'metric': 'li_edu_med_gap_to_local', 'unit': 'pp', 'from': 'household_rollup',
     'value': '100.0 * gap_excess / gap_consumption', 'units_n': 'gap_households',
     'counties_n': 'gap_counties_n', 'vintage': 'gap_vintage',
     'templates': ['households', 'household_income', 'county_indicators'], 'where': 'gap_households > 0'},
    {'comment': 'T7',
     'metric': 'li_employment_rate', 'unit': 'percent', 'from': 'household_rollup',
     'value': '100.0 * employed / labour', 'units_n': 'labour_households', 'where': 'labour > 0'},
    {'comment': 'P5: persons trained per labourer of monitored households',
     'metric': 'li_trained_share', 'unit': 'percent', 'from': 'household_rollup',
     'value': '100.0 * trained / labour', 'units_n': 'labour_households', 'where': 'labour > 0'},
    {'comment': 'P5 (the plan\'s "trained at least once"): households with labour trained in a plan year'
                ' up to Y',
     'metric': 'li_ever_trained_share', 'unit': 'percent', 'from': 'household_rollup',
     'value': '100.0 * ever_trained_households / labour_households', 'units_n': 'labour_households',
     'where': 'labour_households > 0 and year >= ' ~ var('plan_first_year', 2013)},
    {'metric': 'monitored_households_with_income', 'unit': 'count', 'from': 'household_rollup',
     'value': 'income_households', 'units_n': 'income_households', 'where': 'income_households > 0'},
    {'metric': 'register_monitored_households', 'unit': 'count', 'from': 'register_rollup',
     'value': 'monitored_households', 'units_n': 'monitored_households', 'where': 'monitored_households > 0'},
] %}

{#- relocations (relocation_rollup; units: the relocated households unless stated) #}
{%- do metric_catalogue.extend([
    {'comment': 'R1',
     'metric': 'relocated_persons', 'unit': 'persons', 'from': 'relocation_rollup', 'value': 'persons'},
    {'metric': 'relocated_households', 'unit': 'count', 'from': 'relocation_rollup',
     'value': 'relocated_households'},
    {'comment': 'R2: (household + county-level subsidy) per relocated person',
     'metric': 'relocation_subsidy_per_person', 'unit': 'yuan', 'from': 'relocation_rollup',
     'value': '(household_subsidy + county_infra_subsidy) / subsidy_persons', 'units_n': 'subsidy_households',
     'where': 'subsidy_persons > 0'},
    {'metric': 'relocation_household_subsidy_per_person', 'unit': 'yuan', 'from': 'relocation_rollup',
     'value': 'household_subsidy / subsidy_persons', 'units_n': 'subsidy_households',
     'where': 'subsidy_persons > 0'},
    {'metric': 'relocation_infra_subsidy_per_person', 'unit': 'yuan', 'from': 'relocation_rollup',
     'value': 'county_infra_subsidy / subsidy_persons', 'units_n': 'subsidy_households',
     'where': 'subsidy_persons > 0'},
    {'comment': 'R3: relocated households whose housing land is within quota x persons'
                ' (80 or 40 m2 per person)',
     'metric': 'relocation_land_quota_compliance', 'unit': 'percent', 'from': 'relocation_rollup',
     'value': '100.0 * land_within_quota / land_households', 'units_n': 'land_households',
     'where': 'land_households > 0'},
]) %}
{%- for code in relocation_types %}
    {%- do metric_catalogue.extend([
        {'metric': 'relocated_households_type_' ~ code, 'unit': 'count', 'from': 'relocation_rollup',
         'value': 'type_' ~ code ~ '_households'},
        {'metric': 'relocated_persons_type_' ~ code, 'unit': 'persons', 'from': 'relocation_rollup',
         'value': 'type_' ~ code ~ '_persons'},
    ]) %}
{%- endfor %}
{%- for code in settlement_types %}
    {%- do metric_catalogue.extend([
        {'metric': 'relocated_households_settled_' ~ code, 'unit': 'count', 'from': 'relocation_rollup',
         'value': 'settled_' ~ code ~ '_households'},
        {'metric': 'relocated_persons_settled_' ~ code, 'unit': 'persons', 'from': 'relocation_rollup',
         'value': 'settled_' ~ code ~ '_persons'},
    ]) %}
{%- endfor %}
{%- do metric_catalogue.append(
    {'comment': '宅基地复垦: relocated households whose old homestead was reclaimed',
     'metric': 'relocated_households_homestead_reclaimed', 'unit': 'count', 'from': 'relocation_rollup',
     'value': 'homestead_reclaimed_households'}
) %}

{#- programme participation (participation_rollup) #}
{%- do metric_catalogue.extend([
    {'comment': 'P3: mean programme income of households with an agritourism (农家乐) row',
     'metric': 'agritourism_revenue_per_household', 'unit': 'yuan', 'from': 'participation_rollup',
     'value': 'agritourism_income / agritourism_households', 'units_n': 'agritourism_households',
     'where': 'agritourism_households > 0'},
    {'comment': 'P3: mean programme income of the agritourism households living in a key village that year',
     'metric': 'key_village_agritourism_revenue_per_household', 'unit': 'yuan',
     'from': 'participation_rollup',
     'value': 'key_village_agritourism_income / key_village_agritourism_households',
     'units_n': 'key_village_agritourism_households',
     'templates': ['program_participation', 'households', 'villages'],
     'where': 'key_village_agritourism_households > 0'},
    {'comment': "F1: micro-loans at or below 1.4 x that year's benchmark rate",
     'metric': 'microcredit_rate_compliance', 'unit': 'percent', 'from': 'participation_rollup',
     'value': '100.0 * compliant_loans / rated_loans', 'units_n': 'rated_loans', 'vintage': 'rate_vintage',
     'templates': ['program_participation', 'province_indicators'], 'where': 'rated_loans > 0'},
    {'metric': 'microcredit_on_time_interest_subsidy_share', 'unit': 'percent',
     'from': 'participation_rollup',
     'value': '100.0 * subsidised_on_time_loans / on_time_loans', 'units_n': 'on_time_loans',
     'where': 'on_time_loans > 0'},
    {'metric': 'training_participants', 'unit': 'persons', 'from': 'participation_rollup',
     'value': 'training_persons', 'units_n': 'training_households', 'where': 'training_households > 0'},
    {'metric': 'processing_participants', 'unit': 'persons', 'from': 'participation_rollup',
     'value': 'processing_persons', 'units_n': 'processing_households', 'where': 'processing_households > 0'},
    {'metric': 'processing_programme_income', 'unit': 'yuan', 'from': 'participation_rollup',
     'value': 'processing_income', 'units_n': 'processing_households',
     'where': 'processing_households > 0 and processing_income is not null'},
]) %}
{%- for program in breakdown_programs %}
    {%- do metric_catalogue.extend([
        {'metric': program ~ '_participants', 'unit': 'persons', 'from': 'participation_rollup',
         'value': program ~ '_persons', 'units_n': program ~ '_households',
         'where': program ~ '_households > 0'},
        {'metric': program ~ '_programme_income', 'unit': 'yuan', 'from': 'participation_rollup',
         'value': program ~ '_income', 'units_n': program ~ '_households',
         'where': program ~ '_households > 0 and ' ~ program ~ '_income is not null'},
    ]) %}
{%- endfor %}

{#- villages (village_rollup) #}
{%- do metric_catalogue.extend([
    {'comment': 'P1 (2nd part): key villages covered by technology extension',
     'metric': 'key_villages_tech_extension_share', 'unit': 'percent', 'from': 'village_rollup',
     'value': '100.0 * key_villages_tech / key_villages', 'units_n': 'key_villages',
     'where': 'key_villages > 0'},
    {'comment': 'P4: key or weak villages with collective operating income >= 50,000',
     'metric': 'villages_collective_income_ge_50000_share', 'unit': 'percent', 'from': 'village_rollup',
     'value': '100.0 * key_or_weak_income_ok / key_or_weak_villages', 'units_n': 'key_or_weak_villages',
     'where': 'key_or_weak_villages > 0'},
    {'comment': 'M2: key villages with pairing funds >= 50,000',
     'metric': 'key_villages_pairing_funds_ge_50000_share', 'unit': 'percent', 'from': 'village_rollup',
     'value': '100.0 * key_villages_pairing_ok / key_villages', 'units_n': 'key_villages',
     'where': 'key_villages > 0'},
    {'comment': "M2 (the plan's definition): paired villages (a pairing unit recorded) with pairing funds"
                " >= 50,000",
     'metric': 'paired_villages_funds_ge_50000_share', 'unit': 'percent', 'from': 'village_rollup',
     'value': '100.0 * paired_villages_ok / paired_villages', 'units_n': 'paired_villages',
     'where': 'paired_villages > 0'},
    {'comment': "beside M2: key villages without a pairing unit (not in M2's denominator)",
     'metric': 'key_villages_without_pairing_unit', 'unit': 'count', 'from': 'village_rollup',
     'value': 'key_villages_unpaired', 'units_n': 'key_villages', 'where': 'key_villages > 0'},
    {'comment': 'P6: key villages covered by processing of supplied materials (来料加工覆盖)',
     'metric': 'key_villages_processing_covered_share', 'unit': 'percent', 'from': 'village_rollup',
     'value': '100.0 * key_villages_processing / key_villages_processing_known',
     'units_n': 'key_villages_processing_known', 'where': 'key_villages_processing_known > 0'},
    {'metric': 'key_villages', 'unit': 'count', 'from': 'village_rollup',
     'value': 'key_villages', 'units_n': 'key_villages'},
    {'metric': 'key_or_weak_villages', 'unit': 'count', 'from': 'village_rollup',
     'value': 'key_or_weak_villages', 'units_n': 'key_or_weak_villages'},
]) %}

{#- county indicators (county_indicator_rollup; units: the counties that sent the figure) #}
{%- do metric_catalogue.extend([
    {'comment': 'T4',
     'metric': 'dibao_standard', 'unit': 'yuan', 'from': 'county_indicator_rollup',
     'value': 'dibao_standard', 'units_n': 'dibao_standard_n', 'where': 'dibao_standard_n > 0'},
    {'metric': 'dibao_min_topup', 'unit': 'yuan', 'from': 'county_indicator_rollup',
     'value': 'dibao_min_topup', 'units_n': 'dibao_min_topup_n', 'where': 'dibao_min_topup_n > 0'},
    {'comment': 'T6: housing-aided / housing-need households (a figure about households: disclosure applies)',
     'metric': 'housing_aid_coverage', 'unit': 'percent', 'from': 'county_indicator_rollup',
     'value': '100.0 * housing_aided / housing_need', 'households_n': 'housing_need', 'units_n': 'housing_n',
     'where': 'housing_need > 0'},
    {'metric': 'housing_need_households', 'unit': 'count', 'from': 'county_indicator_rollup',
     'value': 'housing_need', 'households_n': 'housing_need', 'units_n': 'housing_n',
     'where': 'housing_n > 0'},
    {'metric': 'housing_aided_households', 'unit': 'count', 'from': 'county_indicator_rollup',
     'value': 'housing_aided', 'households_n': 'housing_need', 'units_n': 'housing_n',
     'where': 'housing_n > 0'},
    {'comment': 'P1 (1st part)',
     'metric': 'tech_demo_industries', 'unit': 'count', 'from': 'county_indicator_rollup',
     'value': 'tech_demo_industries', 'units_n': 'tech_demo_industries_n',
     'where': 'tech_demo_industries_n > 0'},
    {'comment': 'P2',
     'metric': 'processing_workers', 'unit': 'persons', 'from': 'county_indicator_rollup',
     'value': 'processing_workers', 'units_n': 'processing_workers_n', 'where': 'processing_workers_n > 0'},
    {'metric': 'processing_fees', 'unit': 'yuan', 'from': 'county_indicator_rollup',
     'value': 'processing_fees', 'units_n': 'processing_fees_n', 'where': 'processing_fees_n > 0'},
    {'comment': 'F1: loans outstanding / guarantee fund',
     'metric': 'microcredit_leverage', 'unit': 'ratio', 'from': 'county_indicator_rollup',
     'value': 'loans_outstanding / guarantee_fund', 'units_n': 'leverage_n', 'where': 'leverage_n > 0'},
    {'comment': 'F2',
     'metric': 'mutual_aid_funds_new_since_2013', 'unit': 'count', 'from': 'county_indicator_rollup',
     'value': 'mutual_aid_funds_since_2013', 'units_n': 'mutual_aid_funds_n',
     'where': 'mutual_aid_funds_n > 0'},
    {'comment': 'F2 for developed areas: mutual-aid funds in existence (a stock)',
     'metric': 'mutual_aid_funds_total', 'unit': 'count', 'from': 'county_indicator_rollup',
     'value': 'mutual_aid_funds_total', 'units_n': 'mutual_aid_funds_total_n',
     'where': 'mutual_aid_funds_total_n > 0'},
    {'comment': "S3: farmers' per-capita net income of a group, its counties' weighted by rural population",
     'metric': 'farmers_per_capita_net_income_weighted', 'unit': 'yuan', 'from': 'county_indicator_rollup',
     'value': 'farmers_income_weighted', 'units_n': 'farmers_income_n', 'where': 'farmers_income_n > 0'},
    {'comment': "S3 (b): a county's urban per-capita disposable income (optional column), counties only",
     'metric': 'urban_per_capita_disposable_income', 'unit': 'yuan', 'from': 'county_indicator_values',
     'value': 'urban_per_capita_disposable_income',
     'where': 'urban_per_capita_disposable_income is not null'},
    {'comment': 'S1 (farmers, not only low-income households)',
     'metric': 'farmers_per_capita_net_income', 'unit': 'yuan', 'from': 'county_indicator_rollup',
     'value': 'farmers_income', 'units_n': 'farmers_income_n', 'where': 'farmers_income_n > 0'},
    {'comment': 'I1',
     'metric': 'rural_road_km_since_2013', 'unit': 'km', 'from': 'county_indicator_rollup',
     'value': 'rural_road_km_since_2013', 'units_n': 'rural_road_km_n', 'where': 'rural_road_km_n > 0'},
    {'metric': 'village_bus_access_pct', 'unit': 'percent', 'from': 'county_indicator_rollup',
     'value': 'village_bus_access_pct', 'units_n': 'village_bus_access_n',
     'where': 'village_bus_access_n > 0'},
    {'comment': 'I2',
     'metric': 'water_safety_people_since_2013', 'unit': 'persons', 'from': 'county_indicator_rollup',
     'value': 'water_safety_people_since_2013', 'units_n': 'water_safety_people_n',
     'where': 'water_safety_people_n > 0'},
]) %}

{#- the province's own figures (province_indicators) #}
{%- do metric_catalogue.extend([
    {'comment': "T3's denominator and F1's reference rate, sent by the provincial statistics bureau",
     'metric': 'province_rural_per_capita_net_income', 'unit': 'yuan', 'from': 'province_indicators',
     'value': 'province_rural_per_capita_net_income',
     'where': 'province_rural_per_capita_net_income is not null'},
    {'metric': 'province_urban_per_capita_disposable_income', 'unit': 'yuan', 'from': 'province_indicators',
     'value': 'province_urban_per_capita_disposable_income',
     'where': 'province_urban_per_capita_disposable_income is not null'},
    {'metric': 'benchmark_rate_pct', 'unit': 'percent', 'from': 'province_indicators',
     'value': 'benchmark_rate_pct', 'where': 'benchmark_rate_pct is not null'},
]) %}

with county_indicators as not materialized (
    select * from {{ ref('fct_county_indicator') }}
),

province_indicators as not materialized (
    select * from {{ ref('fct_province_indicator') }}
),

relocations as not materialized (
    select * from {{ ref('fct_relocation') }}
),

villages as not materialized (
    select * from {{ ref('fct_village_economy') }}
),

members as not materialized (
    select * from {{ ref('int_counties_fanned_out_to_geographies') }}
),

counties as not materialized (
    select * from {{ ref('dim_county') }}
),

-- ---------------------------------------------------------------- county-year partial sums
-- The large facts' partial sums are kept in tables of their own, recomputed only for the county-years
-- whose inputs changed (int_household_income_summed_to_county_years,
-- int_household_register_summed_to_county_years, int_program_participation_summed_to_county_years:
-- macros/county_partials.sql); the small facts are summed here.
int_household_income_summed_to_county_years as (
    -- county-years with monitored households (monitored_n = 0: every household outside the scope)
    select * from {{ ref('int_household_income_summed_to_county_years') }}
    where monitored_n > 0
),

household_partials_with_local as (
    -- T5 compares with the county's local rural average; a group's local average is the
    -- consumption-weighted mean of its counties' averages, so the group gap is the aggregate gap.
    select
        p.*,
        ci.rural_edu_med_share_pct as local_share_pct,
        ci.vintage as local_vintage
    from int_household_income_summed_to_county_years as p
    left join county_indicators as ci on p.county_code = ci.county_code and p.year = ci.year
),

int_household_register_summed_to_county_years as (
    select * from {{ ref('int_household_register_summed_to_county_years') }}
),

relocation_partials as (
    select
        county_code,
        year,
        count(*) as relocated_households,
        sum(persons) as persons,
        count(*) filter (where household_subsidy is not null and county_infra_subsidy is not null)
            as subsidy_households,
        sum(persons) filter (where household_subsidy is not null and county_infra_subsidy is not null)
            as subsidy_persons,
        sum(household_subsidy) filter (where county_infra_subsidy is not null) as household_subsidy,
        sum(county_infra_subsidy) filter (where household_subsidy is not null) as county_infra_subsidy,
        count(*) filter (where land_area_m2 is not null and land_quota_m2_per_person is not null)
            as land_households,
        count(*) filter (where land_area_m2 <= land_quota_m2_per_person * persons) as land_within_quota,
        -- breakdowns of the relocation ledger (theme mart relocation_progress)
        {%- for code, value in relocation_types.items() %}
        count(*) filter (where relocation_type = '{{ value }}') as type_{{ code }}_households,
        coalesce(sum(persons) filter (where relocation_type = '{{ value }}'), 0) as type_{{ code }}_persons,
        {%- endfor %}
        {%- for code, value in settlement_types.items() %}
        count(*) filter (where settlement_type = '{{ value }}') as settled_{{ code }}_households,
        coalesce(sum(persons) filter (where settlement_type = '{{ value }}'), 0)
            as settled_{{ code }}_persons,
        {%- endfor %}
        count(*) filter (where homestead_reclaimed) as homestead_reclaimed_households,
        max(vintage) as vintage
    from relocations
    group by county_code, year
),

int_program_participation_summed_to_county_years as (
    select * from {{ ref('int_program_participation_summed_to_county_years') }}
),

village_partials as (
    select
        county_code,
        year,
        count(*) filter (where is_key_village) as key_villages,
        count(*) filter (where is_key_village and tech_extension_covered) as key_villages_tech,
        count(*) filter (where is_key_village or is_weak_village) as key_or_weak_villages,
        count(*) filter (where (is_key_village or is_weak_village) and collective_operating_income >= 50000)
            as key_or_weak_income_ok,
        count(*) filter (where is_key_village and pairing_funds >= 50000) as key_villages_pairing_ok,
        -- M2: only paired villages (a pairing unit recorded) are in the denominator
        count(*) filter (where is_key_village and has_pairing_unit) as paired_villages,
        count(*) filter (where is_key_village and has_pairing_unit and pairing_funds >= 50000)
            as paired_villages_ok,
        count(*) filter (where is_key_village and not coalesce(has_pairing_unit, false))
            as key_villages_unpaired,
        -- P6: key villages covered by processing of supplied materials
        count(*) filter (where is_key_village and processing_covered is not null)
            as key_villages_processing_known,
        count(*) filter (where is_key_village and processing_covered) as key_villages_processing,
        max(vintage) as vintage
    from villages
    group by county_code, year
),

county_indicator_values as (
    select
        county_code,
        year,
        dibao_standard,
        dibao_min_topup,
        tech_demo_industries,
        processing_workers,
        processing_fees,
        microcredit_guarantee_fund,
        microcredit_loans_outstanding,
        housing_need_households,
        housing_aided_households,
        village_bus_access_pct,
        rural_per_capita_net_income,
        urban_per_capita_disposable_income,
        -- F2 for developed areas: the funds in existence (a stock; optional column, null when not sent)
        mutual_aid_funds_total,
        -- cumulative since the plan's first year (2013): the plan counts these over 2013-2017
        case when year >= 2013 then sum(new_mutual_aid_funds) over (
            partition by county_code, (year >= 2013) order by year
        ) end as mutual_aid_funds_since_2013,
        case when year >= 2013 then sum(rural_road_km) over (
            partition by county_code, (year >= 2013) order by year
        ) end as rural_road_km_since_2013,
        case when year >= 2013 then sum(water_safety_people) over (
            partition by county_code, (year >= 2013) order by year
        ) end as water_safety_people_since_2013,
        vintage
    from county_indicators
),

-- ---------------------------------------------------------------- roll-ups through the bridge
household_rollup as (
    select
        m.geography_level,
        m.geography_code,
        p.year,
        sum(p.income_households) as income_households,
        sum(p.net_income) as net_income,
        sum(p.income_persons) as income_persons,
        sum(p.non_dibao_households) as non_dibao_households,
        sum(p.non_dibao_above_8000) as non_dibao_above_8000,
        sum(p.non_dibao_at_or_above_8000) as non_dibao_at_or_above_8000,
        sum(p.monitored_n) as monitored_n,
        sum(p.monitored_persons) as monitored_persons,
        sum(p.ever_trained_households) as ever_trained_households,
        sum(p.consumption_households) as consumption_households,
        sum(p.consumption) as consumption,
        sum(p.real_edu_med) as real_edu_med,
        sum(p.consumption_households) filter (where p.local_share_pct is not null) as gap_households,
        sum(p.consumption) filter (where p.local_share_pct is not null) as gap_consumption,
        sum(p.real_edu_med - p.consumption * p.local_share_pct / 100) filter (
            where p.local_share_pct is not null
        )
            as gap_excess,
        sum(p.labour_households) as labour_households,
        sum(p.labour) as labour,
        sum(p.employed) as employed,
        sum(p.trained) as trained,
        count(*) filter (where p.income_households > 0) as counties_n,
        count(*) filter (where p.local_share_pct is not null and p.consumption_households > 0)
            as gap_counties_n,
        max(p.vintage) as vintage,
        greatest(max(p.vintage), max(p.local_vintage)) as gap_vintage
    from household_partials_with_local as p
    inner join members as m on p.county_code = m.county_code
    group by m.geography_level, m.geography_code, p.year
),

register_rollup as (
    select
        m.geography_level,
        m.geography_code,
        r.year,
        sum(r.monitored_households) as monitored_households,
        count(*) as counties_n,
        max(r.vintage) as vintage
    from int_household_register_summed_to_county_years as r
    inner join members as m on r.county_code = m.county_code
    group by m.geography_level, m.geography_code, r.year
),

relocation_rollup as (
    select
        m.geography_level,
        m.geography_code,
        r.year,
        sum(r.relocated_households) as relocated_households,
        sum(r.persons) as persons,
        sum(r.subsidy_households) as subsidy_households,
        sum(r.subsidy_persons) as subsidy_persons,
        sum(r.household_subsidy) as household_subsidy,
        sum(r.county_infra_subsidy) as county_infra_subsidy,
        sum(r.land_households) as land_households,
        sum(r.land_within_quota) as land_within_quota,
        {%- for code in relocation_types %}
        sum(r.type_{{ code }}_households) as type_{{ code }}_households,
        sum(r.type_{{ code }}_persons) as type_{{ code }}_persons,
        {%- endfor %}
        {%- for code in settlement_types %}
        sum(r.settled_{{ code }}_households) as settled_{{ code }}_households,
        sum(r.settled_{{ code }}_persons) as settled_{{ code }}_persons,
        {%- endfor %}
        sum(r.homestead_reclaimed_households) as homestead_reclaimed_households,
        count(*) as counties_n,
        max(r.vintage) as vintage
    from relocation_partials as r
    inner join members as m on r.county_code = m.county_code
    group by m.geography_level, m.geography_code, r.year
),

participation_rollup as (
    select
        m.geography_level,
        m.geography_code,
        p.year,
        sum(p.agritourism_households) as agritourism_households,
        sum(p.agritourism_income) as agritourism_income,
        sum(p.rated_loans) as rated_loans,
        sum(p.compliant_loans) as compliant_loans,
        sum(p.on_time_loans) as on_time_loans,
        sum(p.subsidised_on_time_loans) as subsidised_on_time_loans,
        sum(p.training_households) as training_households,
        sum(p.training_persons) as training_persons,
        sum(p.processing_households) as processing_households,
        sum(p.processing_persons) as processing_persons,
        sum(p.processing_income) as processing_income,
        sum(p.key_village_agritourism_households) as key_village_agritourism_households,
        sum(p.key_village_agritourism_income) as key_village_agritourism_income,
        {%- for program in breakdown_programs %}
        sum(p.{{ program }}_households) as {{ program }}_households,
        sum(p.{{ program }}_persons) as {{ program }}_persons,
        sum(p.{{ program }}_income) as {{ program }}_income,
        {%- endfor %}
        count(*) as counties_n,
        max(p.vintage) as vintage,
        greatest(max(p.vintage), max(p.benchmark_vintage)) as rate_vintage
    from int_program_participation_summed_to_county_years as p
    inner join members as m on p.county_code = m.county_code
    group by m.geography_level, m.geography_code, p.year
),

village_rollup as (
    select
        m.geography_level,
        m.geography_code,
        v.year,
        sum(v.key_villages) as key_villages,
        sum(v.key_villages_tech) as key_villages_tech,
        sum(v.key_or_weak_villages) as key_or_weak_villages,
        sum(v.key_or_weak_income_ok) as key_or_weak_income_ok,
        sum(v.key_villages_pairing_ok) as key_villages_pairing_ok,
        sum(v.paired_villages) as paired_villages,
        sum(v.paired_villages_ok) as paired_villages_ok,
        sum(v.key_villages_unpaired) as key_villages_unpaired,
        sum(v.key_villages_processing_known) as key_villages_processing_known,
        sum(v.key_villages_processing) as key_villages_processing,
        count(*) as counties_n,
        max(v.vintage) as vintage
    from village_partials as v
    inner join members as m on v.county_code = m.county_code
    group by m.geography_level, m.geography_code, v.year
),

county_indicator_rollup as (
    -- "every county" standards (低保, demonstration bases, farmers' income) roll up as the minimum:
    -- a group meets them only when its weakest county does.
    select
        m.geography_level,
        m.geography_code,
        c.year,
        min(c.dibao_standard) as dibao_standard,
        count(c.dibao_standard) as dibao_standard_n,
        min(c.dibao_min_topup) as dibao_min_topup,
        count(c.dibao_min_topup) as dibao_min_topup_n,
        min(c.tech_demo_industries) as tech_demo_industries,
        count(c.tech_demo_industries) as tech_demo_industries_n,
        min(c.rural_per_capita_net_income) as farmers_income,
        count(c.rural_per_capita_net_income) as farmers_income_n,
        -- S3: a group's farmers' income as the mean of its counties' weighted by rural population
        sum(c.rural_per_capita_net_income * k.rural_population_10k)
        / nullif(sum(k.rural_population_10k) filter (where c.rural_per_capita_net_income is not null), 0)
            as farmers_income_weighted,
        sum(c.mutual_aid_funds_total) as mutual_aid_funds_total,
        count(c.mutual_aid_funds_total) as mutual_aid_funds_total_n,
        sum(c.processing_workers) as processing_workers,
        count(c.processing_workers) as processing_workers_n,
        sum(c.processing_fees) as processing_fees,
        count(c.processing_fees) as processing_fees_n,
        sum(c.microcredit_loans_outstanding) filter (where c.microcredit_guarantee_fund > 0)
            as loans_outstanding,
        sum(c.microcredit_guarantee_fund) filter (where c.microcredit_guarantee_fund > 0) as guarantee_fund,
        count(*) filter (
            where c.microcredit_guarantee_fund > 0 and c.microcredit_loans_outstanding is not null
        )
            as leverage_n,
        sum(c.housing_need_households) filter (where c.housing_aided_households is not null) as housing_need,
        sum(c.housing_aided_households) filter (where c.housing_need_households is not null) as housing_aided,
        count(*) filter (
            where c.housing_need_households is not null and c.housing_aided_households is not null
        )
            as housing_n,
        avg(c.village_bus_access_pct) as village_bus_access_pct,
        count(c.village_bus_access_pct) as village_bus_access_n,
        sum(c.mutual_aid_funds_since_2013) as mutual_aid_funds_since_2013,
        count(c.mutual_aid_funds_since_2013) as mutual_aid_funds_n,
        sum(c.rural_road_km_since_2013) as rural_road_km_since_2013,
        count(c.rural_road_km_since_2013) as rural_road_km_n,
        sum(c.water_safety_people_since_2013) as water_safety_people_since_2013,
        count(c.water_safety_people_since_2013) as water_safety_people_n,
        max(c.vintage) as vintage
    from county_indicator_values as c
    inner join members as m on c.county_code = m.county_code
    left join counties as k on c.county_code = k.county_code
    group by m.geography_level, m.geography_code, c.year
),

monitored_rural_population as (
    -- the rural population of the counties with monitored households that year (D1)
    select
        m.geography_level,
        m.geography_code,
        p.year,
        sum(k.rural_population_10k) as rural_population_10k
    from int_household_income_summed_to_county_years as p
    inner join members as m on p.county_code = m.county_code
    inner join counties as k on p.county_code = k.county_code
    group by m.geography_level, m.geography_code, p.year
),

-- ---------------------------------------------------------------- the metrics
-- one select per entry of metric_catalogue (top of the model)
metrics as (
    {%- for m in metric_catalogue %}
    {%- set source = metric_sources[m.from] %}
    {%- set q = m.alias ~ '.' if m.get('alias') else '' %}
    {%- set units_kind = m.get('units_kind', source.units_kind) %}
    {%- set units_n = m.get('units_n', source.get('units_n')) %}
    {%- set from_clause = m.from ~ (' as ' ~ m.alias if m.get('alias') else '')
                          ~ ('\n    inner join ' ~ m.join ~ '\n        on ' ~ m.on if m.get('join') else '') %}
    {%- set templates = "array['" ~ m.get('templates', source.templates) | join("', '") ~ "']" %}
    {%- set default_counties_n = units_n if units_kind == 'counties' else q ~ 'counties_n' %}
    {%- set columns = [
        ("'" ~ m.metric ~ "'", 'metric'),
        ("'" ~ m.unit ~ "'", 'unit'),
        (source.get('geography_level', q ~ 'geography_level'), 'geography_level'),
        (source.get('geography_code', q ~ 'geography_code'), 'geography_code'),
        (q ~ 'year', 'year'),
        (m.value, 'value'),
        (m.get('households_n', units_n if units_kind == 'households' else 'null::bigint'), 'households_n'),
        (units_n, 'units_n'),
        ("'" ~ units_kind ~ "'" if units_kind else 'null', 'units_kind'),
        (m.get('counties_n', source.get('counties_n', default_counties_n)), 'counties_n'),
        (m.get('vintage', q ~ 'vintage'), 'vintage'),
    ] %}
    {%- if not loop.first %}

    union all
    {%- endif %}
    {%- if m.get('comment') %}
    -- {{ m.comment }}
    {%- endif %}
    select
        {%- for expression, column in columns %}
        {{ expression if expression == q ~ column else expression ~ ' as ' ~ column }},
        {%- endfor %}
        {{ templates }} as templates
    from {{ from_clause }}
    {%- if m.get('where') %}
    where {{ m.where }}
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        metric::text as metric,
        unit::text as unit,
        geography_level::text as geography_level,
        geography_code::text as geography_code,
        year::integer as year,
        value::numeric as value,
        households_n::integer as households_n,
        units_n::integer as units_n,
        units_kind::text as units_kind,
        counties_n::integer as counties_n,
        vintage,
        templates::text[] as templates
    from metrics
    where value is not null
)

select * from final
