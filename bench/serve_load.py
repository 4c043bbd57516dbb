"""The served model under load: `make serve`'s server on models/stance, several concurrent
clients on 127.0.0.1, a fixed duration and request budget, bad requests mixed in.

Good requests are single quotes (the documented payload, one row); every `--bad-every`-th
request is a bad one (malformed JSON, missing or empty text, a wrong type, an unknown field,
an over-long text, JSON nested 500 and 50,000 deep) and must be answered 4xx. Reports req/s, p50/p99
latency of the good requests, good requests that failed and bad ones not rejected with a 4xx;
exits 1 if either count is not zero. The goal is >= 200 good req/s for the default model.

    .venv/bin/python bench/serve_load.py                      # starts its own server on models/stance
    .venv/bin/python bench/serve_load.py --workers 1 2 4      # one run per worker count
    .venv/bin/python bench/serve_load.py --url http://127.0.0.1:5001   # a running `make serve`
    .venv/bin/python bench/serve_load.py --plain-mlflow       # `mlflow models serve` instead
    .venv/bin/python bench/serve_load.py --quick              # smoke: a few requests
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.errors import PipelineError, run_cli  # noqa: E402

GOOD = [
    {"text": "Such a referendum will have no legal force", "speaker": "David Zalkaliani",
     "speaker_role": "Georgian Foreign Minister"},
    {"text": "The unification with Russia is our strategic goal", "speaker": "Anatoly Bibilov"},
    {"text": "We will hold the vote as soon as the legal procedures are complete", "speaker": "Anatoly Bibilov"},
    {"text": "The United States will never recognise the results", "speaker": "Ned Price"},
    {"text": "Polling stations are expected to open at eight", "speaker": "A local official"},
]
BAD = [
    b'{"inputs": [{"text": "unclosed',
    json.dumps({"inputs": [{"speaker": "Ned Price"}]}).encode(),
    json.dumps({"inputs": [{"text": ""}]}).encode(),
    json.dumps({"inputs": [{"text": 42}]}).encode(),
    json.dumps({"inputs": [{"text": "fine", "mood": "angry"}]}).encode(),
    json.dumps({"inputs": [{"text": "x" * 30_000}]}).encode(),
    b'{"inputs": ' + b"[" * 500 + b"]" * 500 + b"}",
    b'{"inputs": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",  # plain `mlflow models serve`: a 500 (--plain-mlflow)
]


@dataclass
class Tally:
    """What the clients saw; one lock, appended to by every client thread."""

    good_latencies: list[float] = field(default_factory=list)
    good_failed: list[str] = field(default_factory=list)
    bad_rejected: int = 0
    bad_accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen | None, log: Path | None, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    while True:
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
            raise PipelineError(f"the model server did not start:\n{tail}")
        time.sleep(0.5)


def server_command(model: Path, workers: int, plain_mlflow: bool) -> list[str]:
    """`make serve`'s server (pipeline.serving.server), or plain `mlflow models serve`."""
    if plain_mlflow:
        return [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", str(model),
                "--env-manager", "local", "--workers", str(workers)]
    return [sys.executable, "-m", "pipeline.serving.server", "--model", str(model), "--workers", str(workers)]


def start_server(model: Path, workers: int, log: Path, plain_mlflow: bool = False) -> tuple[str, subprocess.Popen]:
    """The model server on a free loopback port, as `make serve` runs it."""
    if not (model / "MLmodel").is_file():
        raise PipelineError("no exported model here (no MLmodel file): run `make repro` first", path=model)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("w") as handle:
        process = subprocess.Popen([*server_command(model, workers, plain_mlflow),
                                    "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                   stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
    except BaseException:
        stop(process)
        raise
    return url, process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def client(url: str, tickets: itertools.count, budget: int, deadline: float, bad_every: int, tally: Tally) -> None:
    """One keep-alive connection sending requests until the budget or the deadline runs out."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    while time.monotonic() < deadline:
        number = next(tickets)
        if number >= budget:
            break
        bad = bad_every > 0 and number % bad_every == bad_every - 1
        body = BAD[number // bad_every % len(BAD)] if bad else json.dumps({"inputs": [GOOD[number % len(GOOD)]]}).encode()
        started = time.perf_counter()
        try:
            connection.request("POST", "/invocations", body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            status = response.status
            if (response.getheader("connection") or "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            status, answer = 0, str(error).encode()
        seconds = time.perf_counter() - started
        with tally.lock:
            if bad and 400 <= status < 500:
                tally.bad_rejected += 1
            elif bad:
                tally.bad_accepted.append(f"{status}: {answer[:200]!r}")
            elif status == 200 and b'"label"' in answer:
                tally.good_latencies.append(seconds)
            else:
                tally.good_failed.append(f"{status}: {answer[:200]!r}")
    connection.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def load(url: str, clients: int, duration: float, budget: int, bad_every: int) -> dict:
    tally, tickets = Tally(), itertools.count()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(url, tickets, budget, started + duration, bad_every, tally))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    total = len(tally.good_latencies) + len(tally.good_failed) + tally.bad_rejected + len(tally.bad_accepted)
    return {"requests": total, "seconds": seconds, "req_per_s": total / seconds,
            "good_per_s": len(tally.good_latencies) / seconds,
            "p50_ms": 1000 * percentile(tally.good_latencies, 0.50),
            "p99_ms": 1000 * percentile(tally.good_latencies, 0.99),
            "good_ok": len(tally.good_latencies), "good_failed": len(tally.good_failed),
            "bad_rejected": tally.bad_rejected, "bad_not_rejected": len(tally.bad_accepted),
            "examples": (tally.good_failed + tally.bad_accepted)[:3]}


def ping_rate(url: str, clients: int, duration: float) -> float:
    """GET /ping req/s with the same clients: the server and client overhead with no model work,
    measured in the same run as the baseline the model's rate is compared with."""
    parts, count, lock = urllib.parse.urlsplit(url), [0], threading.Lock()
    deadline = time.monotonic() + duration

    def pinger() -> None:
        connection, done = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30), 0
        while time.monotonic() < deadline:
            connection.request("GET", "/ping")
            connection.getresponse().read()
            done += 1
        connection.close()
        with lock:
            count[0] += done

    started = time.monotonic()
    threads = [threading.Thread(target=pinger) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0] / (time.monotonic() - started)


def measure(url: str, args: argparse.Namespace) -> dict:
    """The /ping baseline, then the load run, on one server."""
    baseline = ping_rate(url, args.clients, max(2.0, args.duration / 3))
    return {"ping_per_s": baseline, **load(url, args.clients, args.duration, args.requests, args.bad_every)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/serve_load.py", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "stance")
    parser.add_argument("--url", help="load a running server instead of starting one (127.0.0.1 only)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server workers; one run per count")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--duration", type=float, default=15, help="seconds per run, at most")
    parser.add_argument("--requests", type=int, default=6000, help="requests per run, at most")
    parser.add_argument("--bad-every", type=int, default=10, help="every Nth request is a bad one (0: none)")
    parser.add_argument("--plain-mlflow", action="store_true",
                        help="serve with plain `mlflow models serve` instead of make serve's pipeline.serving.server")
    parser.add_argument("--quick", action="store_true", help="smoke: 1 worker, 2 clients, 40 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.workers, args.clients, args.duration, args.requests = [1], 2, 10, 40
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise PipelineError("load tests run on 127.0.0.1 only", field="--url")
    rows = []
    for workers in ([None] if args.url else args.workers):
        if args.url:
            rows.append({"workers": "(running)", **measure(args.url, args)})
            continue
        with tempfile.TemporaryDirectory(prefix="serve-load-") as scratch:
            url, process = start_server(args.model, workers, Path(scratch) / "serve.log", args.plain_mlflow)
            try:
                load(url, 1, 2, 10, 0)  # warm-up: first requests import and load lazily
                rows.append({"workers": workers, **measure(url, args)})
            finally:
                stop(process)
    server = "plain `mlflow models serve`" if args.plain_mlflow else "`make serve` (pipeline.serving.server)"
    print(f"{server} on {args.url or args.model}; {args.clients} clients on 127.0.0.1, at most "
          f"{args.duration:g} s or {args.requests} requests per run, every {args.bad_every}th request bad "
          f"(single-quote good requests; goal: >= 200 good req/s, 0 failed). Baseline: GET /ping req/s with "
          f"the same clients on the same server just before (HTTP and client cost, no model).\n")
    print("| workers | requests | s | req/s | good req/s | /ping req/s | good / ping | p50 ms | p99 ms "
          "| good failed | bad rejected (4xx) | bad not rejected |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workers']} | {row['requests']} | {row['seconds']:.1f} | {row['req_per_s']:.0f} | "
              f"{row['good_per_s']:.0f} | {row['ping_per_s']:.0f} | {row['good_per_s'] / row['ping_per_s']:.2f} | "
              f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['good_failed']} | "
              f"{row['bad_rejected']} | {row['bad_not_rejected']} |")
    failures = [example for row in rows for example in row["examples"]]
    if failures:
        print(f"\nfailures, first few: {failures}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
