"""`keepcab demo`: a working dispatch room in one command.

It sets up the embedded default (a SQLite file, no Redis) the way a firm
would: `keepcab db upgrade`, `keepcab import orders` with a simulated past,
an operator account and machine keys, then starts the live server
(`uvicorn api.console.demo_app:create_demo_app`) and lets a small simulated
town drive it over HTTP at `--speed` times real time. The demo never
imports the live shell (DESIGN.md): it talks to it as any phone system, car
or operator would, through subprocesses and HTTP.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import numpy as np
import typer

from demo.city import DemoCustomer, Town, write_export
from demo.country import country_for
from demo.driver import DemoDriver, DemoKeys, DemoPlan
from dispatch.config import DispatchConfig
from dispatch.tariff import TARIFF_FIELDS, Tariff
from simulator.scenario import Scenario, load_scenario

OPERATOR, PASSWORD = "demo", "demo-password"
CLI = [sys.executable, "-c", "from api.cli import main; main()"]


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:
    """Ask the kernel to send SIGTERM when the parent process dies (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _as_interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM and SIGHUP end the demo the way Ctrl-C does, through the same clean-up.

    Relayed to the SIGINT handler (asyncio's, which cancels the run gracefully) unless SIGINT
    is ignored, as it is for a job a shell started in the background: then it is raised here.
    """
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        raise KeyboardInterrupt
    signal.raise_signal(signal.SIGINT)


def handle_endings() -> None:
    """Every way the demo ends runs its clean-up: SIGINT, SIGTERM, SIGHUP, or the parent dying."""
    parent = os.getppid()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _as_interrupt)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the kernel was asked to tell us
        raise KeyboardInterrupt


def _keepcab(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start one `keepcab` command (each pays the CLI's start-up, so independent ones overlap)."""
    return subprocess.Popen(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_die_with_parent,
    )  # fmt: skip


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
    return subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)  # a killed demo takes it along


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
    calls_per_hour: Annotated[
        float, typer.Option(help="Mean calls per simulated hour (it waves around the mean).", min=1)
    ] = 24.0,
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
    region = os.environ.get("KEEPCAB_PHONE_REGION", "RU")
    try:
        country = country_for(region)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="KEEPCAB_PHONE_REGION") from None
    handle_endings()
    directory = workdir or Path(tempfile.mkdtemp(prefix="keepcab-demo-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        plan = DemoPlan(
            speed=speed, epoch_s=time.time(), cars=cars, calls_per_hour=calls_per_hour, line=country.line
        )
        town = Town(load_scenario("small-town"), np.random.default_rng(seed), country)
        env = _environment(directory, plan, town.scenario, country.region)
        people = town.customers(customers, customers // 4)
        typer.echo(f"setting up {directory} ({country.city}, {country.region}) ...")
        commands = prepare(env, town, people, plan.epoch_s)
        base_url = f"http://{host}:{port or _free_port(host)}"
        # the server starts on a finished set-up: its caller index loads every imported number
        phone_key, fleet_key = [_output(command) for command in commands][:2]
        server = start_server(env, base_url)
        wait_ready(base_url, server)
        keys = DemoKeys(operator=_login(base_url), phone=phone_key, fleet=fleet_key)
        typer.echo(f"\nkeepcab demo is running at {base_url}/  (time runs {speed:g}x)")
        typer.echo(f"log in as {OPERATOR} / {PASSWORD}; Ctrl-C stops it\n")
        counts = asyncio.run(DemoDriver(base_url, keys, town, people, plan).run(duration))
        typer.echo(", ".join(f"{name} {value}" for name, value in counts.items()))
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if server is not None:
            _stop(server)
        if workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


def _environment(directory: Path, plan: DemoPlan, scenario: Scenario, region: str) -> dict[str, str]:
    """The embedded default in `directory`, on the demo's clock, dispatching as the scenario does."""
    config = scenario.dispatch.config()
    return {
        **os.environ,
        **dispatch_environment(config),
        **tariff_environment(scenario.trips.tariff(), scenario.currency),
        "KEEPCAB_PHONE_REGION": region,
        "KEEPCAB_DATABASE_URL": f"sqlite:///{directory / 'keepcab.db'}",
        "KEEPCAB_REDIS_URL": "",
        "KEEPCAB_MAP_TILE_URL": "none",  # offline: the console draws the town from its addresses
        "KEEPCAB_GEOCODER": "book",
        "KEEPCAB_TICK_INTERVAL_S": "0.25",
        "KEEPCAB_DEMO_SPEED": str(plan.speed),
        "KEEPCAB_DEMO_EPOCH": str(plan.epoch_s),
        "KEEPCAB_DEMO_DIR": str(directory),
    }


def tariff_environment(tariff: Tariff, currency: str) -> dict[str, str]:
    """The scenario's tariff as the live server reads it (`TARIFF_FIELDS` with the KEEPCAB_ prefix)."""
    values = {f"KEEPCAB_{name.upper()}": repr(getattr(tariff, name)) for name in TARIFF_FIELDS}
    return {**values, "KEEPCAB_CURRENCY": currency}


def dispatch_environment(config: DispatchConfig) -> dict[str, str]:
    """The scenario's dispatch settings as the live server reads them (the same names, KEEPCAB_ prefix)."""
    names = ("pickup_radius_m", "speed_mps", "detour_factor", "max_wait_s", "max_head_start_s", "cell_m")
    values = {name: getattr(config, name) for name in names}
    return {f"KEEPCAB_{key.upper()}": "none" if v is None else repr(v) for key, v in values.items()}


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
