"""Running ``bestbot`` as the real processes the attack and crash tests need.

Each process is ``python -m bot.cli …`` with its own config file; its stderr goes to a log
file (never a pipe, which a chatty ``-v`` process could fill and block on), so a test can
read every line it wrote — to look for tracebacks, for a warning said once, or for a secret.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLES

__all__ = ["Proc", "Procs", "free_port", "fresh_release", "toml", "until"]

CLI = (sys.executable, "-m", "bot.cli")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_release(number: int, title: str | None = None) -> dict[str, Any]:
    """The real Find a Tender UK4 tender ("… DISTRICT HEATING PROJECT …") as notice
    ``number``, dated now and open for a month, so every copy is a distinct notice."""
    package = json.loads((SAMPLES / "fts_032703-2026_UK4_tender.json").read_text())
    release: dict[str, Any] = copy.deepcopy(package["releases"][0])
    now = datetime.now(UTC)
    release["ocid"] = f"ocds-h6vhtk-sec{number:05d}"
    release["id"] = f"ocds-h6vhtk-sec{number:05d}-1"
    release["date"] = now.isoformat(timespec="seconds")
    release["tender"]["tenderPeriod"]["endDate"] = (now + timedelta(days=30)).isoformat(
        timespec="seconds"
    )
    if title is not None:
        release["tender"]["title"] = title
    return release


async def until(what: str, check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Wait until ``check()`` is true, polling; fail naming ``what`` after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def toml(config: Mapping[str, Any]) -> str:
    """A config dict as TOML: tables of plain values, and ``feeds`` as an array of tables."""
    lines: list[str] = []

    def table(name: str, body: Mapping[str, Any], header: str) -> None:
        lines.append(header)
        subtables = []
        for key, value in body.items():
            if isinstance(value, Mapping):
                subtables.append((key, value))
            else:
                lines.append(f"{key} = {_value(value)}")
        for key, value in subtables:
            table(f"{name}.{key}", value, f"[{name}.{key}]")

    for name, body in config.items():
        if body == []:  # "none at all" (``feeds = []``), a top-level key: before any table
            lines.insert(0, f"{name} = []")
        elif isinstance(body, list):
            for item in body:
                table(name, item, f"[[{name}]]")
        else:
            table(name, body, f"[{name}]")
    return "\n".join(lines) + "\n"


@dataclass
class Proc:
    """One running (or finished) ``bestbot`` process and the file its stderr went to."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    stdout: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""

    def output(self) -> str:
        return self.stdout.read_text("utf-8", "replace") if self.stdout.exists() else ""

    async def wait(self, within: float = 60.0) -> int:
        return await asyncio.wait_for(self.process.wait(), within)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM (a clean shutdown), then its exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.wait(within)

    async def kill(self) -> None:
        """``kill -9``: no shutdown code runs at all."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.wait(10)


@dataclass
class Procs:
    """The processes of one test: one config, one environment, every log kept in ``tmp``."""

    tmp: Path
    config: Mapping[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    started: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.config_path = self.tmp / "bestbot.toml"
        self.write_config(self.config)
        base = {k: v for k, v in os.environ.items() if not k.startswith("BESTBOT_")}
        self.env = {**base, "BESTBOT_CONFIG": str(self.config_path), **self.env}

    def write_config(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.config_path.write_text(toml(config))

    async def start(self, *args: str, name: str | None = None, verbose: bool = False) -> Proc:
        label = name or f"{args[0]}-{len(self.started)}"
        log, out = self.tmp / f"{label}.stderr", self.tmp / f"{label}.stdout"
        flags = ("-v",) if verbose else ()
        with log.open("wb") as err, out.open("wb") as std:
            process = await asyncio.create_subprocess_exec(
                *CLI, *flags, *args, env=self.env, stdout=std, stderr=err
            )
        proc = Proc(label, process, log, out)
        self.started.append(proc)
        return proc

    async def run(self, *args: str, name: str | None = None, within: float = 60.0) -> Proc:
        """Start a command and wait for it to finish."""
        proc = await self.start(*args, name=name)
        await proc.wait(within)
        return proc

    async def import_subscribers(self, people: Iterable[Mapping[str, Any]]) -> None:
        path = self.tmp / "people.json"
        path.write_text(json.dumps(list(people)))
        proc = await self.run("subscribers", "import", str(path), name="import")
        assert proc.process.returncode == 0, proc.stderr()[-2000:]

    async def close(self) -> None:
        """Stop whatever is still running (a test that failed half-way)."""
        for proc in self.started:
            if proc.process.returncode is None:
                proc.process.send_signal(signal.SIGKILL)
                await proc.wait(10)

    def logs(self) -> str:
        """Every line every process of this test wrote, stdout and stderr."""
        return "\n".join(p.stderr() + p.output() for p in self.started)
