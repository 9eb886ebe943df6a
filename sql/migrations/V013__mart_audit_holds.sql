-- issue 13: the marts audit gate holds across runs. A rebuild used to consume the pending
-- ranges before their audit, so the next run found nothing to audit and copied the failed
-- ranges into BI. Every range a rebuild replaces is held here, in the rebuild's own transaction,
-- until an audit of it passes; each rebuild replaces the held ranges again and the audit covers
-- them, and the BI copy is published only while nothing is held.
create table if not exists meta.mart_audit_holds (
    platform varchar not null,
    account_id varchar not null,
    day_from date not null,
    day_to date not null,
    load_id varchar not null,
    held_at timestamptz not null
);
