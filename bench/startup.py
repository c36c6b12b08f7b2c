"""Cold start of the demo as a new user meets it: `make demo` on a machine with no virtual
environment, no pip cache and no data folder, until the console answers.

    python3 bench/startup.py [--runs N] [--warm-pip-cache] [--json]
    python3 bench/startup.py --warm [--runs N] [--json]

``--warm`` times the starts after the install instead: in the repository's own environment
(``.venv``, installed) with a fresh data folder, the first start (the demo city is seeded) and a
second one on the same folder (a warm start: what a user waits each time after the first).

Each run makes a fresh virtual environment, pip cache and data folder in a temporary directory,
runs ``make demo`` there (``VENV=…``, ``JINGWU_DATA_DIR=…``, a free port) and times two moments:
the install done (the venv's ``.installed`` stamp appears) and the server up (``/healthz``
answers 200). Then it stops the demo. Standard library only: it runs before Jingwu is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def one_run(work: Path, *, warm_pip_cache: bool) -> dict[str, float]:
    venv, data = work / "venv", work / "data"
    port = free_port()
    env = os.environ | {"JINGWU_DATA_DIR": str(data), "PYTHONDONTWRITEBYTECODE": ""}
    if not warm_pip_cache:
        env["PIP_CACHE_DIR"] = str(work / "pip-cache")
    log = (work / "make-demo.log").open("w")
    started = time.monotonic()
    # A session of its own, so that stopping it stops make, pip and the server it started.
    process = subprocess.Popen(
        ["make", "-C", str(REPO), "demo", f"VENV={venv}", f"ARGS=--port {port}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    installed = up = None
    try:
        while time.monotonic() - started < TIMEOUT_S:
            if process.poll() is not None:
                output = (work / "make-demo.log").read_text()
                raise RuntimeError(f"make demo exited {process.returncode}: {output}")
            now = time.monotonic() - started
            if installed is None and (venv / ".installed").exists():
                installed = now
            if installed is not None and answers(port):
                up = time.monotonic() - started
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"no answer in {TIMEOUT_S} s: {(work / 'make-demo.log').read_text()}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
    return {"install_s": round(installed, 2), "demo_up_s": round(up, 2), "serve_s": round(up - installed, 2)}


def _serve_until_up(env: dict[str, str], port: int, log_path: Path) -> float:
    """``make demo`` on the repository's own venv until /healthz answers; then stop it."""
    started = time.monotonic()
    with log_path.open("a") as log:
        process = subprocess.Popen(
            ["make", "-C", str(REPO), "demo", f"ARGS=--port {port}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while time.monotonic() - started < TIMEOUT_S:
                if process.poll() is not None:
                    raise RuntimeError(f"make demo exited {process.returncode}: {log_path.read_text()}")
                if answers(port):
                    return round(time.monotonic() - started, 2)
                time.sleep(0.05)
            raise RuntimeError(f"no answer in {TIMEOUT_S} s: {log_path.read_text()}")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def warm_run(work: Path) -> dict[str, float]:
    env = os.environ | {"JINGWU_DATA_DIR": str(work / "data"), "JINGWU_DEMO_PASSWORD": "bench-Startup-2026"}
    first = _serve_until_up(env, free_port(), work / "demo.log")
    warm = _serve_until_up(env, free_port(), work / "demo.log")
    return {"first_start_s": first, "warm_start_s": warm}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warm-pip-cache", action="store_true", help="use the user's pip cache")
    parser.add_argument("--json", action="store_true", help="print the JSON only")
    parser.add_argument("--warm", action="store_true", help="the starts after the install (see above)")
    args = parser.parse_args()
    if args.warm:
        return _warm_main(args)
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="jingwu-startup-") as tmp:
            result = one_run(Path(tmp), warm_pip_cache=args.warm_pip_cache)
        runs.append(result)
        if not args.json:
            print(f"run {i + 1}: {result}", file=sys.stderr)
    summary = {
        "bench": "startup",
        "what": "make demo from nothing (fresh venv, data folder"
        + (")" if args.warm_pip_cache else " and pip cache)")
        + " until /healthz answers",
        "runs": runs,
        "median_demo_up_s": statistics.median(r["demo_up_s"] for r in runs),
        "median_install_s": statistics.median(r["install_s"] for r in runs),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


def _warm_main(args: argparse.Namespace) -> int:
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="jingwu-warm-") as tmp:
            result = warm_run(Path(tmp))
        runs.append(result)
        if not args.json:
            print(f"run {i + 1}: {result}", file=sys.stderr)
    summary = {
        "bench": "startup-warm",
        "what": "make demo in the installed .venv until /healthz answers: the first start on a new "
        "data folder (seeding the city), then a second start on it",
        "runs": runs,
        "median_first_start_s": statistics.median(r["first_start_s"] for r in runs),
        "median_warm_start_s": statistics.median(r["warm_start_s"] for r in runs),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
