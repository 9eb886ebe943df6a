-- the schemas of a new BI copy (attached as bi_copy)
create schema bi_copy.marts;
create schema bi_copy.meta;
