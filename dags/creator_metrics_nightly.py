"""Nightly creator metrics: stage each platform's day in parallel, then publish, marts and BI.

Wiring only: every task calls one function of ``ingest.runs``. Nothing heavy is imported here;
the package and the hooks are imported inside the tasks, so parsing this file stays cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from ingest.platforms import names as platform_names

WAREHOUSE_POOL = "warehouse"
# the marts the BI copy publishes (ingest.transforms.MARTS; the integrity test keeps them in
# step); downstream DAGs can schedule on them: events come only with a new, audited BI copy
MART_ASSETS = [
    Asset(name=f"marts.{mart}", uri=f"duckdb://creator-metrics/marts/{mart}", group="marts")
    for mart in (
        "creator_engagement_daily",
        "creator_tier_daily",
        "creator_tier_history",
        "creator_account_daily",
        "creator_daily",
        "follower_anomalies_daily",
    )
]


def _settings() -> Any:
    from creator_metrics.hooks.warehouse import WarehouseHook

    return WarehouseHook().ingest_settings()


def _day() -> Any:
    from ingest.runs import day_of_run

    context = get_current_context()
    return day_of_run(context.get("data_interval_start"), context["dag_run"].run_after)


def _run_id() -> str:
    # staged batches belong to this DAG run: a retry replaces its own, never another run's
    return str(get_current_context()["dag_run"].run_id)


def record_failure(context: Any) -> None:
    from ingest.runs import record_failure

    ti = context["ti"]
    record_failure(
        _settings(),
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        try_number=ti.try_number,
        error=context.get("exception"),
    )


@dag(
    dag_id="creator_metrics_nightly",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["creator-metrics", "ingest", "nightly"],
    default_args={
        "owner": "data-engineering",
        "retries": 3,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": record_failure,
    },
    doc_md=__doc__,
)
def creator_metrics_nightly() -> None:
    @task
    def pull_platform_day(platform: str) -> dict[str, Any]:
        from creator_metrics.hooks import platform_credentials
        from ingest import runs

        creds = platform_credentials(platform)
        if creds is None:
            return runs.pull_platform_day(platform, _day(), _settings())
        return runs.pull_platform_day(
            platform,
            _day(),
            _settings(),
            token=creds.token,
            base_url=creds.base_url,
            accounts=creds.accounts,
        )

    # an incomplete pull fails its task (retries resume it), yet what landed is still staged
    @task(trigger_rule="all_done")
    def stage_platform_day(platform: str) -> dict[str, Any]:
        from ingest import runs

        return runs.stage_platform_day(platform, _day(), _settings(), run_id=_run_id()).to_dict()

    @task(pool=WAREHOUSE_POOL)
    def publish_staged_batches(staged: list[dict[str, Any]]) -> dict[str, Any]:
        from ingest import runs

        return runs.publish_day(_day(), staged, _settings()).to_dict()

    @task(pool=WAREHOUSE_POOL)
    def refresh_marts() -> dict[str, Any]:
        from ingest import runs

        return runs.refresh_marts(_settings())

    # a task emits its outlets' asset events only when it succeeds: skipped, it tells no one
    @task(outlets=MART_ASSETS)
    def announce_marts(marts: dict[str, Any]) -> None:
        from ingest import runs

        if not runs.marts_published(marts):
            raise AirflowSkipException("no new BI copy was published")

    @task
    def check_day(summary: dict[str, Any], marts: dict[str, Any]) -> None:
        from ingest import runs

        runs.check_summary(summary, marts)

    pulled = pull_platform_day.expand(platform=list(platform_names()))
    staged = stage_platform_day.expand(platform=list(platform_names()))
    pulled >> staged
    summary = publish_staged_batches(staged)
    marts = refresh_marts()
    summary >> marts
    announce_marts(marts)
    check_day(summary, marts)


creator_metrics_nightly()
