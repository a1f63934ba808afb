"""`keepcab demo`: a working dispatch room in one command.

It sets up the embedded default (a SQLite file, no Redis) the way a firm
would: `keepcab db upgrade`, `keepcab import orders` with a simulated past,
an operator account and machine keys, then starts the live server
(`uvicorn api.console.demo_app:create_demo_app`) and lets a small simulated
town drive it over HTTP at `--speed` times real time. The simulator never
imports the live shell (DESIGN.md): it talks to it as any phone system, car
or operator would, through subprocesses and HTTP.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import httpx
import numpy as np
import typer

from simulator.demo_city import DemoCustomer, Town, write_export
from simulator.demo_driver import DemoDriver, DemoKeys, DemoPlan
from simulator.scenario import load_scenario

OPERATOR, PASSWORD = "demo", "demo-password"
CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _keepcab(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start one `keepcab` command (each pays the CLI's start-up, so independent ones overlap)."""
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _output(command: subprocess.Popen[str]) -> str:
    """A finished command's stdout, or exit with its stderr."""
    stdout, stderr = command.communicate()
    if command.returncode != 0:
        typer.echo(stdout + stderr, err=True)
        raise typer.Exit(command.returncode or 1)
    return stdout.strip()


def prepare(
    env: dict[str, str], town: Town, people: list[DemoCustomer], now_s: float
) -> list[subprocess.Popen[str]]:
    """Schema, the town's past, accounts and keys: what a firm does on day one.

    The commands after `db upgrade` are started, not awaited: the first two
    print the phone system's key and the fleet's key.
    """
    _output(_keepcab(env, "db", "upgrade"))
    rows = [row for person in people for row in town.history(person, now_s)]
    export = Path(env["KEEPCAB_DEMO_DIR"]) / "past-orders.csv"
    write_export(export, rows)
    commands = [
        _keepcab(env, "keys", "create", "--role", "phone", "--name", "demo-pbx"),
        _keepcab(env, "keys", "create", "--role", "admin", "--name", "demo-fleet"),
        _keepcab(env, "operators", "create", OPERATOR, "--password", PASSWORD, "--display-name", "Demo"),
        _keepcab(env, "import", "orders", str(export)),
    ]
    return commands


def start_server(env: dict[str, str], base_url: str) -> subprocess.Popen[bytes]:
    host, port = base_url.removeprefix("http://").split(":")
    command = [
        sys.executable, "-m", "uvicorn", "api.console.demo_app:create_demo_app", "--factory",
        "--host", host, "--port", port, "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env)


def wait_ready(base_url: str, server: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            typer.echo(f"the server exited with {server.returncode} (port taken? try --port 0)", err=True)
            raise typer.Exit(1)
        try:
            if httpx.get(base_url + "/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base_url} was not ready within {timeout_s:.0f} s")


def demo(
    speed: Annotated[float, typer.Option(help="How many times faster than real time.", min=0.1)] = 10.0,
    cars: Annotated[int, typer.Option(help="Cars in the town.", min=1)] = 10,
    calls_per_hour: Annotated[float, typer.Option(help="Calls per simulated hour.", min=1)] = 50.0,
    customers: Annotated[int, typer.Option(help="Customers with a past.", min=1)] = 80,
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(help="0: any free port.")] = 8000,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the database here (default: a temp dir).")
    ] = None,
    duration: Annotated[float | None, typer.Option(help="Stop after this many wall-clock seconds.")] = None,
    seed: int = 7,
) -> None:
    """Start the live server with a small simulated town driving it, and open the console."""
    directory = workdir or Path(tempfile.mkdtemp(prefix="keepcab-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    plan = DemoPlan(speed=speed, epoch_s=time.time(), cars=cars, calls_per_hour=calls_per_hour)
    env = _environment(directory, plan)
    town = Town(load_scenario("small-town"), np.random.default_rng(seed))
    people = town.customers(customers, customers // 4)
    typer.echo(f"setting up {directory} ...")
    commands = prepare(env, town, people, plan.epoch_s)
    base_url = f"http://{host}:{port or _free_port(host)}"
    server = start_server(env, base_url)
    try:
        phone_key, fleet_key = [_output(command) for command in commands][:2]
        wait_ready(base_url, server)
        keys = DemoKeys(operator=_login(base_url), phone=phone_key, fleet=fleet_key)
        typer.echo(f"\nkeepcab demo is running at {base_url}/  (time runs {speed:g}x)")
        typer.echo(f"log in as {OPERATOR} / {PASSWORD}; Ctrl-C stops it\n")
        counts = asyncio.run(DemoDriver(base_url, keys, town, people, plan).run(duration))
        typer.echo(", ".join(f"{name} {value}" for name, value in counts.items()))
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        _stop(server)
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


def _environment(directory: Path, plan: DemoPlan) -> dict[str, str]:
    """The embedded default in `directory`, on the demo's clock."""
    return {
        **os.environ,
        "KEEPCAB_DATABASE_URL": f"sqlite:///{directory / 'keepcab.db'}",
        "KEEPCAB_REDIS_URL": "",
        "KEEPCAB_TICK_INTERVAL_S": "0.25",
        "KEEPCAB_DEMO_SPEED": str(plan.speed),
        "KEEPCAB_DEMO_EPOCH": str(plan.epoch_s),
        "KEEPCAB_DEMO_DIR": str(directory),
    }


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


def _login(base_url: str) -> str:
    response = httpx.post(base_url + "/console/login", json={"username": OPERATOR, "password": PASSWORD})
    response.raise_for_status()
    key: str = response.json()["key"]
    return key
