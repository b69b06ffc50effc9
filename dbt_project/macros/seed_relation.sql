{#- A seed's table, for SQL that may not call ref(): a source's freshness query (sources cannot depend on
    nodes). Looked up in the graph, so the seed's configured schema is respected. -#}
{% macro seed_relation(name) %}
    {%- set node = graph.nodes.get('seed.' ~ project_name ~ '.' ~ name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("no seed named " ~ name) }}
    {%- endif -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}
