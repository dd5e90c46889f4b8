"""Benchmark: cold start of `ess serve` to its first answer of /health/ready, against the bare Litestar app started
the same way, in the same rounds.

    .venv/bin/python bench/cold_start.py [--rounds 5] [--before TREE] [--no-compile]

Each round starts, one after the other and in a rotating order, `bench/bare_app.py` (Litestar, Jinja and uvicorn
alone), `bench/bare_app.py --stack` (the same after importing what any app on ESS's fixed stack loads at start:
SQLAlchemy's asyncio extension and ORM, aiosqlite, passlib, Babel; the floor of a cold start on this stack) and
`python -m ess.cli serve` from this checkout (and with `--before TREE` from that source tree as well:
`git archive <commit> | tar -x -C TREE`), each on a demo SQLite database of its own (`ess db upgrade` and
`ess demo seed` of that tree, file session store, as bench/request_overhead.py runs it), and takes the seconds from
starting the process to its first answer: `/health/ready` with 200 for ESS, `/json` for the bare app; and the CPU
time (user + system, from /proc) the process had spent by then, which neighbours' load moves much less than the
seconds. It prints each round, the medians and the ratios to the bare app and to the stack's floor (and
after/before). It asserts nothing.

Bytecode: the deployed image compiles it (`compileall` in deploy/Containerfile) and this environment sets
PYTHONDONTWRITEBYTECODE, so by default the script first compiles each tree's `ess` package into its `__pycache__`
folders (ignored by git), as deployed. `--no-compile` skips that and measures the trees as they are (without
`__pycache__`, ESS then compiles its ~240 modules from source at every start; the bare app has one module).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness.ess_processes import EssCluster, stop  # noqa: E402
from tests.harness.ports import free_port  # noqa: E402

POLL_SECONDS = 0.01
START_TIMEOUT_SECONDS = 120.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def answers(url: str) -> bool:
    """Whether `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def timed_start(command: list[str], env: dict[str, str] | None, cwd: Path, url: str, log: Path) -> tuple[float, float]:
    """Seconds from starting `command` to the first 200 from `url`, and the CPU seconds the process had used by
    then; the process is stopped afterwards."""
    with log.open("ab") as output:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        while time.monotonic() - started < START_TIMEOUT_SECONDS:
            if answers(url):
                return time.monotonic() - started, cpu_seconds(process.pid)
            if process.poll() is not None:
                break
            time.sleep(POLL_SECONDS)
        raise RuntimeError(f"{' '.join(command)} did not answer {url}:\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        stop(process)


class Ess:
    """`ess serve` from one source tree, on a demo database of its own."""

    def __init__(self, name: str, tree: Path) -> None:
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"ess-cold-{name}-"))
        self.cluster = EssCluster(
            self.workdir,
            f"sqlite+aiosqlite:///{self.workdir}/ess.db",
            store="file",
            extra_env={"PYTHONPATH": str(tree)},
        )
        self.cluster.prepare()

    def start(self) -> tuple[float, float]:
        port = free_port()
        command = [sys.executable, "-m", "ess.cli", "serve"]
        url = f"http://127.0.0.1:{port}/health/ready"
        return timed_start(command, self.cluster.env(port), self.workdir, url, self.workdir / "ess.log")


class Bare:
    """bench/bare_app.py: a bare Litestar app under the same uvicorn options; with `stack`, the same app after
    importing what any app on ESS's fixed stack loads at start (`--stack`: SQLAlchemy async and ORM, aiosqlite,
    passlib, Babel), the floor of a cold start on that stack."""

    def __init__(self, *, stack: bool = False) -> None:
        self.name = "bare+stack" if stack else "bare"
        self.options = ["--stack"] if stack else []
        self.workdir = Path(tempfile.mkdtemp(prefix="bare-cold-"))

    def start(self) -> tuple[float, float]:
        port = free_port()
        command = [sys.executable, str(ROOT / "bench" / "bare_app.py"), str(port), *self.options]
        return timed_start(command, None, self.workdir, f"http://127.0.0.1:{port}/json", self.workdir / "bare.log")


def main(rounds: int, before: Path | None, *, compile_bytecode: bool) -> None:
    trees = {"after": ROOT} | ({"before": before} if before else {})
    if compile_bytecode:
        for tree in trees.values():
            compileall.compile_dir(tree / "ess", quiet=1)
    servers: list[Ess | Bare] = [Bare(), Bare(stack=True), *(Ess(name, tree) for name, tree in trees.items())]
    seconds: dict[str, list[float]] = {server.name: [] for server in servers}
    cpu: dict[str, list[float]] = {server.name: [] for server in servers}
    print(f"bytecode {'compiled beforehand' if compile_bytecode else 'as the trees have it'}; {rounds} rounds")
    for number in range(rounds):
        # A rotating order: no server always starts right after another one stopped.
        shift = number % len(servers)
        for server in servers[shift:] + servers[:shift]:
            wall, used = server.start()
            seconds[server.name].append(wall)
            cpu[server.name].append(used)
        print(
            f"round {number + 1}: "
            + ", ".join(f"{k} {v[-1]:.2f} s ({cpu[k][-1]:.2f} s CPU)" for k, v in seconds.items()),
            flush=True,
        )
    print(f"{'cold start to first answer (medians)':44} {'ESS':>9} {'bare':>9} {'ratio':>7}")
    for label, figures in (("seconds", seconds), ("CPU seconds", cpu)):
        median = {name: statistics.median(values) for name, values in figures.items()}
        for name in ("bare+stack", *trees):
            line = f"  {label}, {name}"
            print(f"{line:44} {median[name]:9.2f} {median['bare']:9.2f} {median[name] / median['bare']:7.1f}")
        for name in trees:
            line = f"  {label}, {name} / bare+stack"
            print(f"{line:44} {median[name] / median['bare+stack']:9.2f}")
        if before:
            print(f"{'  ' + label + ', after / before':44} {median['after'] / median['before']:9.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another source tree (with an `ess` package) to start as well")
    parser.add_argument("--no-compile", action="store_true", help="do not compile the trees' bytecode first")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.before, compile_bytecode=not arguments.no_compile)
