-- the staged files of one entity over a run's batches, each row with its batch's load_id and
-- its position in its own file ($paths and $load_ids are parallel lists)
with

members as (
    select
        unnest($paths) as path,
        unnest($load_ids) as load_id
),

staged as (
    select * from read_parquet($paths, filename = true, file_row_number = true)
),

final as (
    select
        staged.*,
        members.load_id
    from staged
    inner join members
        on staged.filename = members.path
)

select * from final
