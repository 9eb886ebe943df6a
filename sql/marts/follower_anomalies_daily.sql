-- follower-spike flag per account-day for the account-days in affected_days (anomaly_spike_mad_v1)
-- change: followers minus the previous calendar day's followers (null when either is unknown)
-- baseline: the non-null changes of the $spike_window_days days before the day (the day itself
--   excluded); median_change and mad_change = median(|change - median_change|) over it
-- scale: greatest(1.4826 * mad_change, 0.001 * the previous day's followers, the rounding step
--   where either day's count is published rounded to 3 significant figures (followers_rounded),
--   1); the floors keep a steady account from flagging a one-follower wobble or one step of a
--   rounded count
-- robust_score: (change - median_change) / scale, only with at least $spike_min_changes baseline
--   changes; is_spike when robust_score >= threshold (upward only: bought followers arrive)
with

affected as (
    select * from affected_days
),

history as (
    select
        account_daily.platform,
        account_daily.account_id,
        account_daily.day,
        account_daily.followers,
        account_daily.followers_rounded
    from core.account_daily
    inner join affected
        on
            account_daily.platform = affected.platform
            and account_daily.account_id = affected.account_id
            and account_daily.day
            between affected.day_from - cast($spike_window_days as integer) - 1
            and affected.day_to
),

changes as (
    select
        history.platform,
        history.account_id,
        history.day,
        history.followers,
        day_before.followers as followers_before,
        history.followers - day_before.followers as change,
        case
            when
                (history.followers_rounded or day_before.followers_rounded)
                and day_before.followers >= 1000
                then power(10, floor(log10(day_before.followers)) - 2)
        end as rounding_step
    from history
    left join history as day_before
        on
            history.platform = day_before.platform
            and history.account_id = day_before.account_id
            and history.day - 1 = day_before.day
),

account_days as (
    select changes.*
    from changes
    inner join affected
        on
            changes.platform = affected.platform
            and changes.account_id = affected.account_id
            and changes.day between affected.day_from and affected.day_to
),

baseline_changes as (
    select
        account_days.platform,
        account_days.account_id,
        account_days.day,
        earlier.change
    from account_days
    inner join changes as earlier
        on
            account_days.platform = earlier.platform
            and account_days.account_id = earlier.account_id
            and earlier.day
            between account_days.day - cast($spike_window_days as integer)
            and account_days.day - 1
    where earlier.change is not null
),

medians as (
    select
        platform,
        account_id,
        day,
        count(*) as window_changes,
        median(change) as median_change
    from baseline_changes
    group by platform, account_id, day
),

deviations as (
    select
        baseline_changes.platform,
        baseline_changes.account_id,
        baseline_changes.day,
        median(abs(baseline_changes.change - medians.median_change)) as mad_change
    from baseline_changes
    inner join medians
        on
            baseline_changes.platform = medians.platform
            and baseline_changes.account_id = medians.account_id
            and baseline_changes.day = medians.day
    group by baseline_changes.platform, baseline_changes.account_id, baseline_changes.day
),

scored as (
    select
        account_days.platform,
        account_days.account_id,
        account_days.day,
        account_days.followers,
        account_days.change as followers_change_1d,
        coalesce(medians.window_changes, 0) as window_changes,
        medians.median_change,
        deviations.mad_change,
        greatest(
            1.4826 * deviations.mad_change,
            0.001 * account_days.followers_before,
            account_days.rounding_step,
            1.0
        ) as scale
    from account_days
    left join medians
        on
            account_days.platform = medians.platform
            and account_days.account_id = medians.account_id
            and account_days.day = medians.day
    left join deviations
        on
            account_days.platform = deviations.platform
            and account_days.account_id = deviations.account_id
            and account_days.day = deviations.day
),

final as (
    select
        scored.platform,
        scored.account_id,
        accounts.handle,
        scored.day,
        scored.followers,
        scored.followers_change_1d,
        cast($spike_window_days as integer) as window_days,
        scored.window_changes,
        scored.median_change,
        scored.mad_change,
        case when scored.median_change is not null then scored.scale end as scale,
        case
            when scored.window_changes >= cast($spike_min_changes as integer)
                then (scored.followers_change_1d - scored.median_change) / scored.scale
        end as robust_score,
        cast($spike_threshold as double) as threshold,
        coalesce(
            scored.window_changes >= cast($spike_min_changes as integer)
            and (scored.followers_change_1d - scored.median_change) / scored.scale
            >= cast($spike_threshold as double),
            false
        ) as is_spike,
        'anomaly_spike_mad_v1' as anomaly_method
    from scored
    left join core.accounts
        on
            scored.platform = accounts.platform
            and scored.account_id = accounts.account_id
)

select * from final
