-- one schema per layer; BI reads marts, engineers read meta and quarantine
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists core;
create schema if not exists marts;
create schema if not exists meta;
create schema if not exists quarantine;
