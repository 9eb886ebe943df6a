-- one configured tier of one rule version into meta.tier_rules; merge, not insert-or-replace:
-- DuckLake tables have no primary key to replace by
merge into meta.tier_rules as t
using (
    select
        $rule_version as rule_version,
        $tier as tier,
        $min_followers as min_followers,
        $max_followers as max_followers,
        $rank as rank,
        $hysteresis_pct as hysteresis_pct
) as s
    on t.rule_version = s.rule_version and t.tier = s.tier
when matched then update set
    min_followers = s.min_followers,
    max_followers = s.max_followers,
    rank = s.rank,
    hysteresis_pct = s.hysteresis_pct
when not matched then insert (
    rule_version, tier, min_followers, max_followers, rank, hysteresis_pct
)
values (
    s.rule_version, s.tier, s.min_followers, s.max_followers, s.rank, s.hysteresis_pct
)
