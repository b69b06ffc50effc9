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
metrics as (
    -- T1: per-capita net income = sum(net_income) / sum(household_size), monitored households
    select
        'li_per_capita_net_income' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        net_income / nullif(income_persons, 0) as value,
        income_households as households_n,
        income_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where income_households > 0

    union all
    -- T2 / S2: share of monitored non-低保 households whose own per-capita income is strictly > 8000
    select
        'li_share_above_8000_excl_dibao' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * non_dibao_above_8000 / non_dibao_households as value,
        non_dibao_households as households_n,
        non_dibao_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where non_dibao_households > 0

    union all
    -- S2: the same share at or above 8000 (the plan: 达到8000元以上)
    select
        'li_share_at_or_above_8000_excl_dibao' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * non_dibao_at_or_above_8000 / non_dibao_households as value,
        non_dibao_households as households_n,
        non_dibao_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where non_dibao_households > 0

    union all
    -- D1: identified people (household_size of the monitored households) / rural registered population
    select
        'li_identified_share_of_rural_population' as metric,
        'percent' as unit,
        h.geography_level,
        h.geography_code,
        h.year,
        100.0 * h.monitored_persons / (r.rural_population_10k * 10000) as value,
        h.monitored_n as households_n,
        h.monitored_n as units_n,
        'households' as units_kind,
        h.counties_n,
        h.vintage,
        array['households', 'household_income'] as templates
    from household_rollup as h
    inner join monitored_rural_population as r
        on h.geography_level = r.geography_level and h.geography_code = r.geography_code and h.year = r.year
    where h.monitored_persons > 0 and r.rural_population_10k > 0

    union all
    select
        'li_real_edu_med_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * real_edu_med / consumption as value,
        consumption_households as households_n,
        consumption_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where consumption_households > 0

    union all
    -- T5: real share minus the local rural average share, in percentage points
    select
        'li_edu_med_gap_to_local' as metric,
        'pp' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * gap_excess / gap_consumption as value,
        gap_households as households_n,
        gap_households as units_n,
        'households' as units_kind,
        gap_counties_n as counties_n,
        gap_vintage as vintage,
        array['households', 'household_income', 'county_indicators'] as templates
    from household_rollup
    where gap_households > 0

    union all
    -- T7
    select
        'li_employment_rate' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * employed / labour as value,
        labour_households as households_n,
        labour_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where labour > 0

    union all
    -- P5: persons trained per labourer of monitored households
    select
        'li_trained_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * trained / labour as value,
        labour_households as households_n,
        labour_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where labour > 0

    union all
    -- P5 (the plan's "trained at least once"): households with labour trained in a plan year up to Y
    select
        'li_ever_trained_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * ever_trained_households / labour_households as value,
        labour_households as households_n,
        labour_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where labour_households > 0 and year >= {{ var('plan_first_year', 2013) }}

    union all
    select
        'monitored_households_with_income' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        income_households as value,
        income_households as households_n,
        income_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households', 'household_income'] as templates
    from household_rollup
    where income_households > 0

    union all
    select
        'register_monitored_households' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        monitored_households as value,
        monitored_households as households_n,
        monitored_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['households'] as templates
    from register_rollup
    where monitored_households > 0

    union all
    -- R1
    select
        'relocated_persons' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        persons as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup

    union all
    select
        'relocated_households' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        relocated_households as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup

    union all
    -- R2: (household + county-level subsidy) per relocated person
    select
        'relocation_subsidy_per_person' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        (household_subsidy + county_infra_subsidy) / subsidy_persons as value,
        subsidy_households as households_n,
        subsidy_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup
    where subsidy_persons > 0

    union all
    select
        'relocation_household_subsidy_per_person' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        household_subsidy / subsidy_persons as value,
        subsidy_households as households_n,
        subsidy_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup
    where subsidy_persons > 0

    union all
    select
        'relocation_infra_subsidy_per_person' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        county_infra_subsidy / subsidy_persons as value,
        subsidy_households as households_n,
        subsidy_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup
    where subsidy_persons > 0

    union all
    -- R3: relocated households whose housing land is within quota x persons (80 or 40 m2 per person)
    select
        'relocation_land_quota_compliance' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * land_within_quota / land_households as value,
        land_households as households_n,
        land_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup
    where land_households > 0
    {%- for code in relocation_types %}

    union all
    select
        'relocated_households_type_{{ code }}' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        type_{{ code }}_households as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup

    union all
    select
        'relocated_persons_type_{{ code }}' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        type_{{ code }}_persons as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup
    {%- endfor %}
    {%- for code in settlement_types %}

    union all
    select
        'relocated_households_settled_{{ code }}' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        settled_{{ code }}_households as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup

    union all
    select
        'relocated_persons_settled_{{ code }}' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        settled_{{ code }}_persons as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup
    {%- endfor %}

    union all
    -- 宅基地复垦: relocated households whose old homestead was reclaimed
    select
        'relocated_households_homestead_reclaimed' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        homestead_reclaimed_households as value,
        relocated_households as households_n,
        relocated_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['relocations'] as templates
    from relocation_rollup

    union all
    -- P3: mean programme income of households with an agritourism (农家乐) row
    select
        'agritourism_revenue_per_household' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        agritourism_income / agritourism_households as value,
        agritourism_households as households_n,
        agritourism_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where agritourism_households > 0

    union all
    -- P3: mean programme income of the agritourism households living in a key village that year
    select
        'key_village_agritourism_revenue_per_household' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        key_village_agritourism_income / key_village_agritourism_households as value,
        key_village_agritourism_households as households_n,
        key_village_agritourism_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation', 'households', 'villages'] as templates
    from participation_rollup
    where key_village_agritourism_households > 0

    union all
    -- F1: micro-loans at or below 1.4 x that year's benchmark rate
    select
        'microcredit_rate_compliance' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * compliant_loans / rated_loans as value,
        rated_loans as households_n,
        rated_loans as units_n,
        'households' as units_kind,
        counties_n,
        rate_vintage as vintage,
        array['program_participation', 'province_indicators'] as templates
    from participation_rollup
    where rated_loans > 0

    union all
    select
        'microcredit_on_time_interest_subsidy_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * subsidised_on_time_loans / on_time_loans as value,
        on_time_loans as households_n,
        on_time_loans as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where on_time_loans > 0

    union all
    select
        'training_participants' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        training_persons as value,
        training_households as households_n,
        training_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where training_households > 0

    union all
    select
        'processing_participants' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        processing_persons as value,
        processing_households as households_n,
        processing_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where processing_households > 0

    union all
    select
        'processing_programme_income' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        processing_income as value,
        processing_households as households_n,
        processing_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where processing_households > 0 and processing_income is not null
    {%- for program in breakdown_programs %}

    union all
    select
        '{{ program }}_participants' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        {{ program }}_persons as value,
        {{ program }}_households as households_n,
        {{ program }}_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where {{ program }}_households > 0

    union all
    select
        '{{ program }}_programme_income' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        {{ program }}_income as value,
        {{ program }}_households as households_n,
        {{ program }}_households as units_n,
        'households' as units_kind,
        counties_n,
        vintage,
        array['program_participation'] as templates
    from participation_rollup
    where {{ program }}_households > 0 and {{ program }}_income is not null
    {%- endfor %}

    union all
    -- P1 (2nd part): key villages covered by technology extension
    select
        'key_villages_tech_extension_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * key_villages_tech / key_villages as value,
        null::bigint as households_n,
        key_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup
    where key_villages > 0

    union all
    -- P4: key or weak villages with collective operating income >= 50,000
    select
        'villages_collective_income_ge_50000_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * key_or_weak_income_ok / key_or_weak_villages as value,
        null::bigint as households_n,
        key_or_weak_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup
    where key_or_weak_villages > 0

    union all
    -- M2: key villages with pairing funds >= 50,000
    select
        'key_villages_pairing_funds_ge_50000_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * key_villages_pairing_ok / key_villages as value,
        null::bigint as households_n,
        key_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup
    where key_villages > 0

    union all
    -- M2 (the plan's definition): paired villages (a pairing unit recorded) with pairing funds >= 50,000
    select
        'paired_villages_funds_ge_50000_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * paired_villages_ok / paired_villages as value,
        null::bigint as households_n,
        paired_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup
    where paired_villages > 0

    union all
    -- beside M2: key villages without a pairing unit (not in M2's denominator)
    select
        'key_villages_without_pairing_unit' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        key_villages_unpaired as value,
        null::bigint as households_n,
        key_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup
    where key_villages > 0

    union all
    -- P6: key villages covered by processing of supplied materials (来料加工覆盖)
    select
        'key_villages_processing_covered_share' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * key_villages_processing / key_villages_processing_known as value,
        null::bigint as households_n,
        key_villages_processing_known as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup
    where key_villages_processing_known > 0

    union all
    select
        'key_villages' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        key_villages as value,
        null::bigint as households_n,
        key_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup

    union all
    select
        'key_or_weak_villages' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        key_or_weak_villages as value,
        null::bigint as households_n,
        key_or_weak_villages as units_n,
        'villages' as units_kind,
        counties_n,
        vintage,
        array['villages'] as templates
    from village_rollup

    union all
    -- T4
    select
        'dibao_standard' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        dibao_standard as value,
        null::bigint as households_n,
        dibao_standard_n as units_n,
        'counties' as units_kind,
        dibao_standard_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where dibao_standard_n > 0

    union all
    select
        'dibao_min_topup' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        dibao_min_topup as value,
        null::bigint as households_n,
        dibao_min_topup_n as units_n,
        'counties' as units_kind,
        dibao_min_topup_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where dibao_min_topup_n > 0

    union all
    -- T6: housing-aided / housing-need households (a figure about households: disclosure applies)
    select
        'housing_aid_coverage' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        100.0 * housing_aided / housing_need as value,
        housing_need as households_n,
        housing_n as units_n,
        'counties' as units_kind,
        housing_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where housing_need > 0

    union all
    select
        'housing_need_households' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        housing_need as value,
        housing_need as households_n,
        housing_n as units_n,
        'counties' as units_kind,
        housing_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where housing_n > 0

    union all
    select
        'housing_aided_households' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        housing_aided as value,
        housing_need as households_n,
        housing_n as units_n,
        'counties' as units_kind,
        housing_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where housing_n > 0

    union all
    -- P1 (1st part)
    select
        'tech_demo_industries' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        tech_demo_industries as value,
        null::bigint as households_n,
        tech_demo_industries_n as units_n,
        'counties' as units_kind,
        tech_demo_industries_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where tech_demo_industries_n > 0

    union all
    -- P2
    select
        'processing_workers' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        processing_workers as value,
        null::bigint as households_n,
        processing_workers_n as units_n,
        'counties' as units_kind,
        processing_workers_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where processing_workers_n > 0

    union all
    select
        'processing_fees' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        processing_fees as value,
        null::bigint as households_n,
        processing_fees_n as units_n,
        'counties' as units_kind,
        processing_fees_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where processing_fees_n > 0

    union all
    -- F1: loans outstanding / guarantee fund
    select
        'microcredit_leverage' as metric,
        'ratio' as unit,
        geography_level,
        geography_code,
        year,
        loans_outstanding / guarantee_fund as value,
        null::bigint as households_n,
        leverage_n as units_n,
        'counties' as units_kind,
        leverage_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where leverage_n > 0

    union all
    -- F2
    select
        'mutual_aid_funds_new_since_2013' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        mutual_aid_funds_since_2013 as value,
        null::bigint as households_n,
        mutual_aid_funds_n as units_n,
        'counties' as units_kind,
        mutual_aid_funds_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where mutual_aid_funds_n > 0

    union all
    -- F2 for developed areas: mutual-aid funds in existence (a stock)
    select
        'mutual_aid_funds_total' as metric,
        'count' as unit,
        geography_level,
        geography_code,
        year,
        mutual_aid_funds_total as value,
        null::bigint as households_n,
        mutual_aid_funds_total_n as units_n,
        'counties' as units_kind,
        mutual_aid_funds_total_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where mutual_aid_funds_total_n > 0

    union all
    -- S3: farmers' per-capita net income of a group, its counties' weighted by rural population
    select
        'farmers_per_capita_net_income_weighted' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        farmers_income_weighted as value,
        null::bigint as households_n,
        farmers_income_n as units_n,
        'counties' as units_kind,
        farmers_income_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where farmers_income_n > 0

    union all
    -- S3 (b): a county's urban per-capita disposable income (optional column), counties only
    select
        'urban_per_capita_disposable_income' as metric,
        'yuan' as unit,
        'county' as geography_level,
        county_code as geography_code,
        year,
        urban_per_capita_disposable_income as value,
        null::bigint as households_n,
        1 as units_n,
        'counties' as units_kind,
        1 as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_values
    where urban_per_capita_disposable_income is not null

    union all
    -- S1 (farmers, not only low-income households)
    select
        'farmers_per_capita_net_income' as metric,
        'yuan' as unit,
        geography_level,
        geography_code,
        year,
        farmers_income as value,
        null::bigint as households_n,
        farmers_income_n as units_n,
        'counties' as units_kind,
        farmers_income_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where farmers_income_n > 0

    union all
    -- I1
    select
        'rural_road_km_since_2013' as metric,
        'km' as unit,
        geography_level,
        geography_code,
        year,
        rural_road_km_since_2013 as value,
        null::bigint as households_n,
        rural_road_km_n as units_n,
        'counties' as units_kind,
        rural_road_km_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where rural_road_km_n > 0

    union all
    select
        'village_bus_access_pct' as metric,
        'percent' as unit,
        geography_level,
        geography_code,
        year,
        village_bus_access_pct as value,
        null::bigint as households_n,
        village_bus_access_n as units_n,
        'counties' as units_kind,
        village_bus_access_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where village_bus_access_n > 0

    union all
    -- I2
    select
        'water_safety_people_since_2013' as metric,
        'persons' as unit,
        geography_level,
        geography_code,
        year,
        water_safety_people_since_2013 as value,
        null::bigint as households_n,
        water_safety_people_n as units_n,
        'counties' as units_kind,
        water_safety_people_n as counties_n,
        vintage,
        array['county_indicators'] as templates
    from county_indicator_rollup
    where water_safety_people_n > 0

    union all
    -- T3's denominator and F1's reference rate, sent by the provincial statistics bureau
    select
        'province_rural_per_capita_net_income' as metric,
        'yuan' as unit,
        'province' as geography_level,
        '330000' as geography_code,
        year,
        province_rural_per_capita_net_income as value,
        null::bigint as households_n,
        null::bigint as units_n,
        null as units_kind,
        null as counties_n,
        vintage,
        array['province_indicators'] as templates
    from province_indicators
    where province_rural_per_capita_net_income is not null

    union all
    select
        'province_urban_per_capita_disposable_income' as metric,
        'yuan' as unit,
        'province' as geography_level,
        '330000' as geography_code,
        year,
        province_urban_per_capita_disposable_income as value,
        null::bigint as households_n,
        null::bigint as units_n,
        null as units_kind,
        null as counties_n,
        vintage,
        array['province_indicators'] as templates
    from province_indicators
    where province_urban_per_capita_disposable_income is not null

    union all
    select
        'benchmark_rate_pct' as metric,
        'percent' as unit,
        'province' as geography_level,
        '330000' as geography_code,
        year,
        benchmark_rate_pct as value,
        null::bigint as households_n,
        null::bigint as units_n,
        null as units_kind,
        null as counties_n,
        vintage,
        array['province_indicators'] as templates
    from province_indicators
    where benchmark_rate_pct is not null
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
