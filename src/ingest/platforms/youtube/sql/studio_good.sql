create temp view studio_good as
select * from studio where clean
