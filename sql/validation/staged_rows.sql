-- one staged entity file of a batch
select * from read_parquet($path)
