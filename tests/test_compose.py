"""The production compose file keeps its shape (no Docker engine runs where tests run)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_runs_celery_airflow_with_postgres_redis_and_the_project():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert {
        "postgres",
        "redis",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-worker",
        "airflow-init",
        "lake-catalog",
    } <= set(services)
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    # the single DuckDB writer is enforced by a one-slot pool created at init
    assert "pools set warehouse 1" in " ".join(services["airflow-init"]["command"])
    # no credentials in the file
    text = (ROOT / "docker-compose.yaml").read_text().lower()
    assert "token:" not in text and "api_key" not in text
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2" in dockerfile
    assert "uv export --frozen" in dockerfile
