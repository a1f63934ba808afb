"""Kamailio (docs/kamailio/kamailio.cfg) and SIPp on loopback: a phone line in front of keepcab.

Three SIPp servers stand for the PBX's destinations (the operators' queue, the
priority queue, the order-status line); Kamailio routes each INVITE to one of
them by keepcab's `route_hint`; SIPp clients place the calls. Every process
writes its SIP messages with timestamps (`-trace_msg`), which is what the test
reads back: when each INVITE left the caller, and which destination received it
with which `X-Keepcab-Route`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).with_name("sipp")
DESTINATIONS = ("operator", "vip_queue", "active_order")
_BLOCK = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(.*?)(?=^-{20,} |\Z)", re.M | re.S)


def missing_tools() -> list[str]:
    return [tool for tool in ("kamailio", "sipp") if shutil.which(tool) is None]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Message:
    at: float  # unix seconds, when SIPp sent or received it
    sent: bool
    text: str

    def header(self, name: str) -> str | None:
        found = re.search(rf"^{name}:\s*(.*?)\s*$", self.text, re.M | re.I)
        return None if found is None else found.group(1)

    @property
    def first_line(self) -> str:
        return self.text.strip().splitlines()[0] if self.text.strip() else ""


def read_trace(path: Path) -> list[Message]:
    """The messages of a SIPp `-trace_msg` file, in order."""
    messages = []
    for stamp, body in _BLOCK.findall(path.read_text(errors="replace") if path.exists() else ""):
        head, _, text = body.partition("\n")
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        messages.append(Message(at, "sent" in head, text.strip()))
    return messages


class Line:
    """The processes of one phone line, each stopped by its own pid at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports = {name: free_udp_port() for name in DESTINATIONS}
        self.proxy_port = free_udp_port()

    def trace(self, name: str) -> Path:
        return self.folder / f"{name}.msg"

    def _start(self, command: list[str], name: str, env: dict[str, str] | None = None) -> None:
        log = (self.folder / f"{name}.out").open("wb")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env))

    def start_destinations(self) -> None:
        for name, port in self.ports.items():
            self._start(self._sipp("uas.xml", port, name), name)

    def start_proxy(self, keepcab_url: str, phone_key: str) -> None:
        env = {
            **os.environ,
            "KEEPCAB_URL": keepcab_url,
            "KEEPCAB_PHONE_KEY": phone_key,
            "KEEPCAB_ROUTE_OPERATOR": f"sip:queue@127.0.0.1:{self.ports['operator']}",
            "KEEPCAB_ROUTE_VIP": f"sip:vip@127.0.0.1:{self.ports['vip_queue']}",
            "KEEPCAB_ROUTE_ACTIVE": f"sip:status@127.0.0.1:{self.ports['active_order']}",
        }
        listen = f"LISTEN=udp:127.0.0.1:{self.proxy_port}"
        command = ["kamailio", "-DD", "-E", "-f", str(CONFIG), "-A", listen,
                   "-Y", str(self.folder), "-w", str(self.folder)]  # fmt: skip
        self._start(command, "kamailio", env)

    def callers(self, scenario: str, name: str, numbers: list[str]) -> list[str]:
        """The SIPp command placing one call per number (a CSV row each), one after another."""
        inf = self.folder / f"{name}.csv"
        inf.write_text("SEQUENTIAL\n" + "".join(f"{number};caller\n" for number in numbers))
        command = self._sipp(scenario, free_udp_port(), name)
        command[1:1] = [f"127.0.0.1:{self.proxy_port}"]
        return [*command, "-inf", str(inf), "-s", "taxi", "-m", str(len(numbers)), "-r", "4", "-l", "4",
                "-timeout", "60s", "-timeout_error"]  # fmt: skip

    def _sipp(self, scenario: str, port: int, name: str) -> list[str]:
        return ["sipp", "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-p", str(port), "-nostdin",
                "-trace_msg", "-message_file", str(self.trace(name)), "-trace_err",
                "-error_file", str(self.folder / f"{name}.err")]  # fmt: skip

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def phone_line(folder: Path) -> Iterator[Line]:
    line = Line(folder)
    try:
        yield line
    finally:
        line.stop()
