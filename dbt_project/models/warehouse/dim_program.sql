-- Assistance programmes, from seed programs.

with programs as (
    select * from {{ ref('programs') }}
),

final as (
    select
        program_code,
        program_zh,
        program_en
    from programs
)

select * from final
