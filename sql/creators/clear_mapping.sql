-- the mapping file is the whole mapping: the loaded one replaces every row before it
delete from core.creators
