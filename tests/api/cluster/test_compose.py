"""docker-compose.yml as Debian's `docker-compose config` reads it: the topology the process tests run.

Images cannot be pulled here, so the file is validated, not run; the same
topology (replicas on one PostgreSQL and one Redis, `/readyz` as readiness)
runs as processes in test_failover.py, test_pause.py and test_outage.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.settings import Settings
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    if shutil.which("docker-compose") is None:
        require_service("docker-compose", FileNotFoundError("docker-compose is not installed"))
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True, text=True, check=False, cwd=ROOT, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _replicas(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in config["services"].items()
        if "KEEPCAB_REDIS_URL" in service.get("environment", {}) and "command" not in service
    }


def test_replicas_share_one_store_and_one_redis_and_wait_for_the_migration(compose: dict[str, Any]) -> None:
    """Two or more replicas, each with its own id, after `keepcab db upgrade` ran once and Redis is up."""
    replicas = _replicas(compose)
    assert len(replicas) >= 2
    envs = [service["environment"] for service in replicas.values()]
    assert len({env["KEEPCAB_REPLICA_ID"] for env in envs}) == len(envs)
    assert len({(env["KEEPCAB_DATABASE_URL"], env["KEEPCAB_REDIS_URL"]) for env in envs}) == 1
    assert envs[0]["KEEPCAB_DATABASE_URL"].startswith("postgresql")
    for service in replicas.values():
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["keepcab", "db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_service_has_a_healthcheck_and_replicas_check_readyz(compose: dict[str, Any]) -> None:
    """PostgreSQL, Redis and every replica declare healthchecks; a replica is healthy when /readyz is 200."""
    services = compose["services"]
    for name in ("postgres", "redis", *_replicas(compose)):
        assert services[name]["healthcheck"]["test"], name
    for service in _replicas(compose).values():
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
    assert any("/var/lib/postgresql/data" in str(v) for v in services["postgres"]["volumes"])
    assert "--appendonly" in services["redis"]["command"]


def test_one_port_in_front_of_exactly_the_replicas(compose: dict[str, Any]) -> None:
    """The proxy publishes one port and its upstream lists every replica (and nothing else)."""
    proxy = compose["services"]["proxy"]
    assert len(proxy["ports"]) == 1
    assert set(proxy["depends_on"]) == set(_replicas(compose))
    upstream = re.findall(r"server\s+([\w-]+):8000", (ROOT / "deploy" / "nginx.conf").read_text())
    assert sorted(upstream) == sorted(_replicas(compose))


def test_every_keepcab_variable_in_the_file_is_a_real_setting(compose: dict[str, Any]) -> None:
    """A typo'd KEEPCAB_* variable would be silently ignored by the replicas; none is."""
    fields = {f"KEEPCAB_{name.upper()}" for name in Settings.model_fields}
    used = {key for service in compose["services"].values() for key in service.get("environment", {})}
    assert {key for key in used if key.startswith("KEEPCAB_")} <= fields
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "api.app:create_app" in dockerfile and "/readyz" in dockerfile
