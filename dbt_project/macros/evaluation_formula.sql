{#- The classified evaluation's formula as published beside its figures (marts.county_evaluation's
    score_formula_zh / score_formula_en, and the report). Keep in step with the doc block
    marts_evaluation_formula (models/marts/marts_docs.md) and the comment of county_evaluation.sql.
    No single quotes: the text is written into a SQL literal. -#}
{% macro evaluation_formula_zh() -%}
综合得分 = 100 × Σ(权重 × (1 − 距离)) ÷ Σ权重，只计有距离的目标(权重见种子表evaluation_weights，默认等权)；距离：达标为0；未达标时取各考核指标中可判定者的最大值，指标为“≥/>/≤目标值”(目标值为正)时 = 差额 ÷ 目标值(封顶1)，其他规则(缩小、趋势)为1；数据保密(C/D)或无数据的目标不计入得分，也不按0分计，权重覆盖率见weight_scored_pct；类别内按得分排名，同分同名次。
{%- endmacro %}

{% macro evaluation_formula_en() -%}
score = 100 × Σ(weight × (1 − distance)) ÷ Σ weight over the targets with a distance (weights: seed evaluation_weights, equal by default); distance: 0 when met; when not met, the largest over the criteria that can be judged, for a criterion ≥/>/≤ a positive threshold = shortfall ÷ threshold (at most 1), for any other rule (narrowing, a trend) 1; a suppressed (C/D) or missing figure is left out of the score, never scored as 0 (weight_scored_pct: the share of the weight scored); ranked within the class by score, ties share a rank.
{%- endmacro %}
