"""The production compose file keeps its shape (no Docker engine runs where tests run).

The file is read as YAML and checked against what the official Airflow compose file provides:
a healthcheck on every long-running service, task logs on a shared volume, an init step that
migrates, creates the pool the DAG writes in and an admin user, and secrets taken from `.env`
(whose template lists every variable the file reads and holds no secret).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_TEMPLATE = ROOT / ".env.example"
LOGS = "/opt/airflow/logs"
# ${NAME}, ${NAME:-default}, ${NAME:?message}; $${NAME} is left to the container's shell
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?][^}]*)?\}")
# long-running Airflow services and what their healthcheck must ask
AIRFLOW_HEALTHCHECKS = {
    "airflow-apiserver": "/api/v2/version",
    "airflow-scheduler": ":8974/health",
    "airflow-dag-processor": "DagProcessorJob",
    "airflow-triggerer": "TriggererJob",
    "airflow-worker": "inspect ping",
}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def env_template() -> dict[str, str]:
    values = {}
    for number, line in enumerate(ENV_TEMPLATE.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f".env.example line {number} is not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def dag_constant(name: str) -> str:
    """A module-level string constant of the nightly DAG, read without importing Airflow."""
    tree = ast.parse((ROOT / "dags" / "creator_metrics_nightly.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError(f"{name} not found in the DAG file")


def init_script() -> str:
    """The shell script the init step runs (``bash -euc SCRIPT``)."""
    command = compose()["services"]["airflow-init"]["command"]
    assert command[:2] == ["bash", "-euc"], command
    return str(command[2])


def test_compose_runs_celery_airflow_with_postgres_redis_and_the_project():
    services = compose()["services"]
    assert {
        "postgres",
        "redis",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-init",
        "lake-catalog",
    } <= set(services)
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    # no credentials in the file
    text = COMPOSE.read_text().lower()
    assert "token:" not in text and "api_key" not in text
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2" in dockerfile
    assert "uv export --frozen" in dockerfile


@pytest.mark.parametrize("service", sorted(AIRFLOW_HEALTHCHECKS))
def test_every_long_running_airflow_service_has_a_healthcheck(service):
    services = compose()["services"]
    check = services[service].get("healthcheck")
    assert check, f"{service} has no healthcheck"
    test = check["test"]
    assert test[0] in ("CMD", "CMD-SHELL"), test
    assert AIRFLOW_HEALTHCHECKS[service] in " ".join(test[1:]), test
    assert check.get("retries") and check.get("interval"), check
    if service == "airflow-scheduler":
        # the scheduler serves /health only when asked to
        assert services[service]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_every_service_but_the_init_step_has_a_healthcheck_and_restarts():
    services = compose()["services"]
    for name, service in services.items():
        if name == "airflow-init":
            assert service.get("restart") == "no"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service.get("restart") == "always", name
    # every Airflow service is listed above: a new one must come with its healthcheck check
    airflow = {n for n in services if n.startswith("airflow-") and n != "airflow-init"}
    assert airflow == set(AIRFLOW_HEALTHCHECKS)


def test_airflow_services_wait_for_the_init_step_and_healthy_dependencies():
    services = compose()["services"]
    for name in AIRFLOW_HEALTHCHECKS:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    # workers run tasks that report to the execution API on the api-server
    worker = services["airflow-worker"]["depends_on"]
    assert worker["airflow-apiserver"]["condition"] == "service_healthy"
    # a dependency named with service_healthy must have a healthcheck to become healthy
    for name, service in services.items():
        for needed, how in (service.get("depends_on") or {}).items():
            if how.get("condition") == "service_healthy":
                assert services[needed].get("healthcheck"), f"{name} waits on {needed}"


def test_task_logs_are_on_a_shared_volume():
    loaded = compose()
    assert "logs" in loaded["volumes"]
    for name, service in loaded["services"].items():
        if not name.startswith("airflow-"):
            continue
        mounts = dict(v.split(":", 1)[::-1] for v in service["volumes"])
        assert mounts.get(LOGS) == "logs", f"{name} does not keep its logs on the logs volume"
        assert mounts.get("/data") == "warehouse", name


def test_init_creates_the_pool_the_dag_writes_in_with_one_slot_by_default():
    pool = dag_constant("WAREHOUSE_POOL")
    script = init_script()
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    assert lines[0] == "airflow db migrate"
    [pool_line] = [line for line in lines if line.startswith("airflow pools set")]
    assert pool_line.split()[3] == pool, pool_line
    assert '"$${AIRFLOW_WAREHOUSE_POOL_SLOTS}"' in pool_line
    env = compose()["services"]["airflow-init"]["environment"]
    # one DuckDB writer at a time unless .env raises it (DuckLake)
    assert env["AIRFLOW_WAREHOUSE_POOL_SLOTS"] == "${AIRFLOW_WAREHOUSE_POOL_SLOTS:-1}"
    assert env_template()["AIRFLOW_WAREHOUSE_POOL_SLOTS"] == "1"


def test_init_creates_an_admin_user_from_env_variables_with_a_required_password():
    script = init_script()
    assert "airflow users create --role Admin" in script
    for flag, variable in (
        ("--username", "AIRFLOW_ADMIN_USERNAME"),
        ("--password", "AIRFLOW_ADMIN_PASSWORD"),
        ("--email", "AIRFLOW_ADMIN_EMAIL"),
    ):
        assert f'{flag} "$${{{variable}}}"' in script, flag
    env = compose()["services"]["airflow-init"]["environment"]
    assert env["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    # `airflow users create` is the FAB auth manager's command
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
    # the admin variables go to the init step only
    worker = compose()["services"]["airflow-worker"]["environment"]
    assert not any(name.startswith("AIRFLOW_ADMIN") for name in worker)


def test_the_env_template_lists_every_variable_and_holds_no_secret():
    text = COMPOSE.read_text()
    template = env_template()
    read = {m.group(1): m.group(2) or "" for m in INTERPOLATION.finditer(text)}
    assert {"AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD"} <= set(read)
    assert set(read) <= set(template), set(read) - set(template)
    for name, how in read.items():
        if how.startswith(":?"):
            # required: left empty in the template, so a copied template refuses to start
            assert template[name] == "", f"{name} has a value in .env.example"
    gitignore = (ROOT / ".gitignore").read_text().split()
    assert "/.env" in gitignore or ".env" in gitignore


def test_the_image_lets_the_airflow_user_write_the_shared_volume():
    # a fresh named volume copies the ownership of the image's folder it is mounted on
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"mkdir -p /data\b.*chown airflow", dockerfile, re.DOTALL), dockerfile
    # the DuckLake option needs the extension wheels in the image
    assert "--extra lake" in dockerfile
