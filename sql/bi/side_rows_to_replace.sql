-- the keys of a keyed side table ($table, keyed by $key) whose rows differ between the
-- warehouse and the attached BI copy: new, changed or gone. Both are scanned, nothing is
-- written, so a night costs a read of the table, not a rewrite of it
create or replace temp table side_rows_to_replace as

with

added_or_changed as (
    select * from query_table($table)
    except
    select * from query_table('bi_copy.' || $table)
),

removed_or_changed as (
    select * from query_table('bi_copy.' || $table)
    except
    select * from query_table($table)
),

final as (
    select distinct key
    from (
        select columns($key) as key from added_or_changed
        union all
        select columns($key) as key from removed_or_changed
    )
)

select * from final
