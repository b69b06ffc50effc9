"""Every rule a submission is checked against, built from the contract (``templates.yaml``).

A rule is defined once, and that one definition is used twice: GX runs it (SQL pushdown against the
load table) to decide success and to feed Data Docs, and :mod:`lowincome.quality.validation` uses the
same definition to find the failing source rows. Two kinds:

* ``column_values``: a GX column map expectation (length, not null, regex, value set, and our "parses as" /
  "between once parsed" of :mod:`lowincome.quality.expectations`). GX bundles all
  of them into one aggregate query, and for those that fail it hands back the SQL that selects the
  failing ``_source_row`` (``unexpected_index_query``): GX writes the predicate, we run GX's text.
* ``rows``: an ``UnexpectedRowsExpectation`` whose SQL (``{batch}`` = the load table) selects the
  ``_source_row`` of every failing row, or one row with a NULL ``_source_row`` when the rule is about
  the file as a whole (plausibility, a register not yet received). We run that same text with
  ``{batch}`` replaced by the load table.

The load table holds text, so every cast is guarded by the same test the type rule makes
(:func:`lowincome.parsing.parses_sql` for the raw column's type): a value that fails its type rule is reported
once, by the type rule, never breaks another rule's query, and every row that passes will cast.
Rules that need a column the file lacks are left out (the file is rejected for the missing column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lowincome.parsing import typed_sql
from lowincome.quality.expectations import lit
from lowincome.quality.policy import Policy, policy
from lowincome.templates import Column, Template, contract, template

# The rule id of each contract type's parse check; the PostgreSQL type is the raw column's.
TYPE_RULE = {"int": "type_int", "year": "type_year", "money": "type_number", "number": "type_number",
             "date": "type_date"}
YEAR_RE = r"^[0-9][0-9][0-9][0-9]$"  # no brace quantifiers: GX str.formats the rows rules' SQL

MICROCREDIT = ("小额贷款", "microcredit")
MICROCREDIT_COLUMNS = ("loan_amount", "loan_rate_pct", "repaid_on_time", "interest_subsidy")
GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"


@dataclass(frozen=True)
class Rule:
    rule: str                       # the id in validation.yaml (severity + reason)
    column: str | None              # the column a finding points at (None: several or the file)
    needs: tuple[str, ...]          # load-table columns the rule reads
    description: str                # English, for Data Docs
    kind: str                       # "column_values" | "rows"
    gx_type: str = ""               # column_values: length_at_most | not_null | match_regex | in_set | parses_as | between
    gx_kwargs: dict[str, Any] = field(default_factory=dict)
    query: str = ""                 # rows: SQL with {batch}; selects _source_row
    reason_params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Unique within a template's suite: the rule and the column it is about."""
        return f"{self.rule}:{self.column}" if self.column else self.rule

    def severity(self, pol: Policy | None = None) -> str:
        return (pol or policy()).severity(self.rule)

    def reason(self, pol: Policy | None = None) -> str:
        return (pol or policy()).reason(self.rule, **self.reason_params)


# --- SQL building blocks -------------------------------------------------------------------------

def in_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def typed(col: Column, alias: str = "b") -> str:
    """The column's value as numeric/date, or NULL when it fails its type rule (never a cast error)."""
    return typed_sql(f"{alias}.{col.name}", col.pg_type)


def rows_query(where: str, source: str = "") -> str:
    """Failing rows of the batch (alias ``b``); ``source`` adds joins after the batch."""
    return f"select b._source_row from (select * from {{batch}}) as b{source} where {where}"


def loaded(template_name: str, alias: str = "s") -> str:
    """Join condition: the submission is the accepted (loaded, not superseded) one of that template."""
    return f"{alias}.template = {lit(template_name)} and {alias}.status = 'loaded'"


FILE_KEY = (f"(select min(county_code) as county_code, min(year) as year from {{batch}} "
            f"where year ~ '{YEAR_RE}') as k")


def previous_submission(template_name: str) -> str:
    """Lateral subquery: the county's accepted submission of the template for its last earlier year."""
    return (f" join lateral (select s.id, s.year, s.rows_loaded from ops.submissions s "
            f"where {loaded(template_name)} and s.county_code = k.county_code and s.year < k.year::int "
            f"order by s.year desc limit 1) as prev on true")


# --- rule builders -------------------------------------------------------------------------------

def _column_rules(tpl: Template, col: Column, pol: Policy, yes_no: tuple[str, ...]) -> list[Rule]:
    zh = {"column_zh": col.zh}
    # first: an over-long cell is named as such (its pattern or type rule fails too, but says less)
    out: list[Rule] = [Rule("too_long", col.name, (col.name,), f"{col.name} is at most {col.max_length} characters",
                            "column_values", "length_at_most", {"max_value": col.max_length},
                            reason_params=zh | {"max_length": col.max_length})]
    if not col.nullable:
        out.append(Rule("not_null", col.name, (col.name,), f"{col.name} is never blank", "column_values",
                        "not_null", reason_params=zh))
    if col.pattern:
        out.append(Rule("pattern", col.name, (col.name,), f"{col.name} matches {col.pattern}", "column_values",
                        "match_regex", {"regex": col.pattern},
                        reason_params=zh | {"pattern_zh": pol.pattern_descriptions.get(col.pattern, col.pattern)}))
    if col.type in TYPE_RULE:
        out.append(Rule(TYPE_RULE[col.type], col.name, (col.name,), f"{col.name} parses as {col.pg_type}",
                        "column_values", "parses_as", {"pg_type": col.pg_type}, reason_params=zh))
        if col.min is not None or col.max is not None:
            out.append(_range_rule(col))
    elif col.type == "bool":
        out.append(Rule("type_bool", col.name, (col.name,), f"{col.name} is a yes/no value", "column_values",
                        "in_set", {"value_set": list(yes_no)}, reason_params=zh))
    elif col.type == "enum":
        values = list(col.values) + [v for v in col.synonyms if v not in col.values]
        out.append(Rule("value_set", col.name, (col.name,), f"{col.name} is one of the allowed values",
                        "column_values", "in_set", {"value_set": values},
                        reason_params=zh | {"values": "、".join(col.values)}))
    if col.check == "gb11643":
        out.append(_check_digit_rule(col))
    if col.name == "county_code":
        out.append(Rule("county_matches_file", col.name, (col.name,), "county_code is the file's county",
                        "column_values", "in_set", {"value_set": {"$PARAMETER": "file_county_code"}}))
    if col.name == "year":
        out.append(Rule("year_matches_file", col.name, (col.name,), "year is the file's year",
                        "column_values", "in_set", {"value_set": {"$PARAMETER": "file_year"}}))
    if col.name in ("village_code", "from_village_code") and tpl.fixed_county_code is None:
        out.append(Rule("village_in_county", col.name, (col.name, "county_code"),
                        f"{col.name} starts with the county code", "rows",
                        query=rows_query(f"b.{col.name} ~ '^[0-9]+$' and b.county_code is not null "
                                         f"and left(b.{col.name}, 6) <> b.county_code"),
                        reason_params=zh))
    return out


def _range_rule(col: Column) -> Rule:
    rule = "range" if col.min is not None and col.max is not None else ("range_min" if col.max is None else "range_max")
    low, high = (None if v is None else _num(v) for v in (col.min, col.max))
    return Rule(rule, col.name, (col.name,), f"{col.name} within [{low}, {high}]", "column_values", "between",
                {"pg_type": col.pg_type, "min_value": col.min, "max_value": col.max},
                reason_params={"column_zh": col.zh, "min": low, "max": high})


def _num(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_digit_rule(col: Column) -> Rule:
    ref = f"b.{col.name}"
    weighted = " + ".join(f"substr({ref}, {i + 1}, 1)::int * {w}" for i, w in enumerate(GB11643_WEIGHTS))
    where = (f"length({ref}) = 18 and substr({ref}, 1, 17) ~ '^[0-9]+$' "
             f"and substr({ref}, 18, 1) <> substr('{GB11643_CHECK}', (({weighted}) % 11) + 1, 1)")
    return Rule("id_check_digit", col.name, (col.name,), f"{col.name} has a correct GB 11643 check digit",
                "rows", query=rows_query(where), reason_params={"column_zh": col.zh})


def _unique_rule(tpl: Template) -> Rule:
    key = tpl.key or (("year",) if tpl.fixed_county_code else ("county_code", "year"))
    cols = ", ".join(key)
    where = " and ".join(f"b.{c} is not null" for c in key)
    query = (f"select b._source_row from (select *, count(*) over (partition by {cols}) as _copies "
             f"from {{batch}}) as b where b._copies > 1 and {where}")
    key_zh = "+".join(tpl.column(c).zh for c in key)
    return Rule("unique_key", key[0] if len(key) == 1 else None, key, f"({cols}) is unique in the file", "rows",
                query=query, reason_params={"key_zh": key_zh})


def _damaged_line_rule() -> Rule:
    """A row of a text file whose line was damaged (a NUL byte, read as U+FFFD: readers.DAMAGED) in any
    of its cells: the whole row as text holds the character."""
    return Rule("damaged_line", None, (), "no cell holds U+FFFD (a damaged line of a text file, e.g. a NUL byte)",
                "rows", query=rows_query("strpos(b::text, chr(65533)) > 0"))


def _pair_rule(tpl: Template, rule: str, small: str, large: str, column: str) -> Rule:
    a, b = tpl.column(small), tpl.column(large)
    return Rule(rule, column, (small, large), f"{small} <= {large}", "rows",
                query=rows_query(f"{typed(a)} > {typed(b)}"))


def _cross_field_rules(tpl: Template, pol: Policy) -> list[Rule]:
    c = tpl.column
    t = pol.thresholds
    out: list[Rule] = []
    if tpl.name == "households":
        out.append(_pair_rule(tpl, "labour_le_size", "labour_count", "household_size", "labour_count"))
        out.append(_pair_rule(tpl, "identified_year_le_year", "identified_year", "year", "identified_year"))
        out.append(_count_change_rule("households", "household_count_change", t["household_count_change_share"]))
    elif tpl.name == "household_income":
        parts = " + ".join(typed(c(n)) for n in ("wage_income", "business_income", "property_income",
                                                  "transfer_income"))
        out.append(Rule("income_components_sum", "net_income",
                        ("wage_income", "business_income", "property_income", "transfer_income", "net_income"),
                        "the four income components sum to net_income (within the tolerance)", "rows",
                        query=rows_query(f"abs({parts} - {typed(c('net_income'))}) > "
                                         f"{t['income_sum_tolerance_yuan']}")))
        out.append(Rule("per_capita_income", "per_capita_net_income",
                        ("net_income", "household_size", "per_capita_net_income"),
                        "per_capita_net_income = net_income / household_size (within the tolerance)", "rows",
                        query=rows_query(f"{typed(c('household_size'))} > 0 and abs({typed(c('net_income'))} / "
                                         f"{typed(c('household_size'))} - {typed(c('per_capita_net_income'))}) > "
                                         f"{t['per_capita_tolerance_yuan']}")))
        out.append(_pair_rule(tpl, "education_le_consumption", "education_expenditure",
                              "consumption_expenditure", "education_expenditure"))
        out.append(_pair_rule(tpl, "medical_le_consumption", "medical_expenditure",
                              "consumption_expenditure", "medical_expenditure"))
        out += _register_rules(tpl)
        out.append(Rule("employed_le_labour", "employed_labour", ("employed_labour", "household_key", "county_code",
                                                                 "year"),
                        "employed_labour <= the register's labour_count", "rows",
                        query=rows_query(f"{typed(c('employed_labour'))} > h.labour_count",
                                         source=" join raw.households h on h.household_key = b.household_key"
                                                " join ops.submissions s on s.id = h._submission_id and "
                                                f"{loaded('households')} and s.county_code = b.county_code"
                                                " and s.year::text = b.year")))
        out.append(_mean_income_rule(t["mean_income_change_share"]))
        out.append(_income_jump_rule(t["income_jump_factor"]))
    elif tpl.name == "relocations":
        out.append(Rule("move_date_in_year", "move_date", ("move_date", "year"), "move_date lies within year",
                        "rows", query=rows_query(f"b.year ~ '{YEAR_RE}' and "
                                                 f"extract(year from {typed(c('move_date'))}) <> b.year::int")))
        for rule, col, standard in (
            ("household_subsidy_per_person", "household_subsidy", t["household_subsidy_per_person"]),
            ("county_infra_subsidy_per_person", "county_infra_subsidy", t["county_infra_subsidy_per_person"]),
        ):
            out.append(Rule(rule, col, (col, "persons"), f"{col} <= {standard} x persons", "rows",
                            query=rows_query(f"{typed(c(col))} > {standard} * {typed(c('persons'))}"),
                            reason_params={"standard": standard}))
        quota = "case b.relocation_type " + " ".join(
            f"when {lit(kind)} then {m2}" for kind, m2 in t["land_quota_m2_per_person"].items()) + " end"
        out.append(Rule("land_area_quota", "land_area_m2", ("land_area_m2", "persons", "relocation_type"),
                        "land_area_m2 <= quota(relocation_type) x persons", "rows",
                        query=rows_query(f"{typed(c('land_area_m2'))} > ({quota}) * {typed(c('persons'))}")))
        out.append(Rule("from_village_other_county", "from_village_code", ("from_village_code", "county_code"),
                        "from_village_code is not a village of another county in the warehouse", "rows",
                        query=rows_query(
                            "exists (select 1 from raw.villages v join ops.submissions s on s.id = v._submission_id"
                            f" and {loaded('villages')} where v.village_code = b.from_village_code"
                            " and v.county_code <> b.county_code) or exists (select 1 from raw.households h"
                            f" join ops.submissions s on s.id = h._submission_id and {loaded('households')}"
                            " where h.village_code = b.from_village_code and h.county_code <> b.county_code)")))
        out.append(_count_change_rule("relocations", "relocation_count_change", t["relocation_count_change_share"]))
    elif tpl.name == "program_participation":
        out += _register_rules(tpl)
        out += _loan_rate_rules(tpl, t["loan_rate_benchmark_multiple"])
        filled = " or ".join(f"b.{n} is not null" for n in MICROCREDIT_COLUMNS)
        out.append(Rule("microcredit_fields_only", None, ("program",) + MICROCREDIT_COLUMNS,
                        "loan columns are only filled for microcredit rows", "rows",
                        query=rows_query(f"b.program not in {in_list(MICROCREDIT)} and ({filled})")))
    elif tpl.name == "county_indicators":
        out.append(_pair_rule(tpl, "housing_aided_le_need", "housing_aided_households", "housing_need_households",
                              "housing_aided_households"))
    elif tpl.name == "project_funds":
        out += _project_fund_rules(tpl)
    return out


def _project_fund_rules(tpl: Template) -> list[Rule]:
    """公告公示: disbursed within allocated, an announcement period that ends after it starts, and dates
    near the file's year (a project of year Y is announced from the year before, when next year's plan is
    made, to the year after at the latest). A rule about a column the file lacks is left out by validation."""
    c = tpl.column
    out = [_pair_rule(tpl, "disbursed_le_allocated", "amount_disbursed", "amount_allocated", "amount_disbursed"),
           _pair_rule(tpl, "announcement_ends_after_start", "announced_on", "announcement_ends_on",
                      "announcement_ends_on")]
    for name in ("announced_on", "announcement_ends_on"):
        day = typed(c(name))
        out.append(Rule("date_near_year", name, (name, "year"), f"{name} lies within year - 1 .. year + 1", "rows",
                        query=rows_query(f"b.year ~ '{YEAR_RE}' and ({day} < make_date(b.year::int - 1, 1, 1) "
                                         f"or {day} > make_date(b.year::int + 1, 12, 31))"),
                        reason_params={"column_zh": c(name).zh}))
    return out


def _register_rules(tpl: Template) -> list[Rule]:
    """An income or programme row must name a household of the county's register for the year."""
    register = "exists (select 1 from ops.submissions s where " + loaded("households") + \
        " and s.county_code = b.county_code and s.year::text = b.year)"
    member = ("exists (select 1 from raw.households h join ops.submissions s on s.id = h._submission_id and "
              + loaded("households") + " and s.county_code = b.county_code and s.year::text = b.year"
              " where h.household_key = b.household_key)")
    missing = (f"select null::integer as _source_row from {FILE_KEY} where not exists (select 1 from "
               f"ops.submissions s where {loaded('households')} and s.county_code = k.county_code "
               "and s.year::text = k.year)")
    needs = ("household_key", "county_code", "year")
    return [
        Rule("household_in_register", "household_id", needs, "household_key is in the county's register", "rows",
             query=rows_query(f"b.household_key is not null and {register} and not {member}")),
        Rule("register_missing", None, needs[1:], "the county's register for the year has been received",
             "rows", query=missing),
    ]


def _loan_rate_rules(tpl: Template, multiple: float) -> list[Rule]:
    benchmark = (" join (select p.year, p.benchmark_rate_pct from raw.province_indicators p join ops.submissions s"
                 f" on s.id = p._submission_id and {loaded('province_indicators')}) as bm on bm.year::text = b.year")
    cap = rows_query(f"{typed(tpl.column('loan_rate_pct'))} > {multiple} * bm.benchmark_rate_pct", source=benchmark)
    unknown = ("select null::integer as _source_row from (select min(year) as year from {batch} "
               f"where loan_rate_pct is not null and year ~ '{YEAR_RE}') as k where k.year is not null and "
               "not exists (select 1 from raw.province_indicators p join ops.submissions s on s.id = p._submission_id"
               f" and {loaded('province_indicators')} where p.year::text = k.year"
               " and p.benchmark_rate_pct is not null)")
    return [
        Rule("loan_rate_cap", "loan_rate_pct", ("loan_rate_pct", "year"),
             f"loan_rate_pct <= {multiple} x the year's benchmark rate", "rows", query=cap,
             reason_params={"cap": _num(multiple * 100)}),
        Rule("benchmark_unknown", "loan_rate_pct", ("loan_rate_pct", "year"),
             "the year's benchmark rate is known", "rows", query=unknown),
    ]


def _count_change_rule(template_name: str, rule: str, share: float) -> Rule:
    query = (f"select null::integer as _source_row from (select count(*) as n, k.county_code, k.year from {{batch}}, "
             f"{FILE_KEY} group by k.county_code, k.year) as k{previous_submission(template_name)} "
             f"where prev.rows_loaded > 0 and abs(k.n - prev.rows_loaded) > {share} * prev.rows_loaded")
    return Rule(rule, None, ("county_code", "year"),
                f"row count within {share:.0%} of the county's last accepted year", "rows", query=query,
                reason_params={"percent": _num(share * 100)})


def _mean_income_rule(share: float) -> Rule:
    per_capita = typed(template("household_income").column("per_capita_net_income"))
    query = ("select null::integer as _source_row from (select avg(" + per_capita + ") as m, k.county_code, k.year "
             f"from (select * from {{batch}}) as b, {FILE_KEY} group by k.county_code, k.year) as k"
             f"{previous_submission('household_income')} join lateral (select avg(p.per_capita_net_income) as m "
             "from raw.household_income p where p._submission_id = prev.id) as pm on true "
             f"where pm.m > 0 and abs(k.m - pm.m) > {share} * pm.m")
    return Rule("mean_income_change", "per_capita_net_income", ("per_capita_net_income", "county_code", "year"),
                f"mean per-capita income within {share:.0%} of the county's last accepted year", "rows",
                query=query, reason_params={"percent": _num(share * 100)})


def _income_jump_rule(factor: float) -> Rule:
    net = typed(template("household_income").column("net_income"))
    query = (f"select b._source_row from {FILE_KEY}{previous_submission('household_income')} "
             "join raw.household_income p on p._submission_id = prev.id "
             "join (select * from {batch}) as b on b.household_key = p.household_key "
             f"where p.net_income > 0 and {net} > {factor} * p.net_income")
    return Rule("income_jump", "net_income", ("net_income", "household_key", "county_code", "year"),
                f"net_income at most {factor}x the household's last accepted year", "rows", query=query,
                reason_params={"factor": _num(factor)})


@cache
def rules_for(template_name: str) -> tuple[Rule, ...]:
    """All rules of a template, in a stable order (file columns first, then cross-field and cross-file)."""
    tpl = template(template_name)
    pol = policy()
    con = contract()
    yes_no = tuple(sorted(con.yes)) + tuple(sorted(con.no))
    out: list[Rule] = []
    for col in tpl.columns:
        out += _column_rules(tpl, col, pol, yes_no)
    out.append(_unique_rule(tpl))
    out.append(_damaged_line_rule())
    out += _cross_field_rules(tpl, pol)
    keys = [r.key for r in out]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise AssertionError(f"rules of {template_name} are not unique: {sorted(duplicates)}")
    for rule in out:
        pol.severity(rule.rule)  # every rule has a reviewed severity, or we fail loudly here
    return tuple(out)
