"""The served model under load: `make serve`'s server on models/stance, several concurrent
clients on 127.0.0.1, a fixed duration and request budget, bad requests mixed in; then the same
load again with an abuse mix running beside it, on the same server in the same run.

Good requests are single quotes (the documented payload, one row); every `--bad-every`-th
request is a bad one (malformed JSON, missing or empty text, a wrong type, an unknown field,
an over-long text, JSON nested 500 and 50,000 deep) and must be answered 4xx. The abuse mix
(ABUSE, each kind on its own connection at its own pace): 51 MB bodies (413), integers of 5,001
digits (400), POSTs with no Content-Type (415), slow clients trickling a body a byte at a time
(held open, never answered), and clients that send a valid 3 MB batch (about 15 s of work) and
leave after half a second. Reports req/s, p50/p99 latency of the good requests, good requests
that failed, bad ones not rejected with a 4xx and abuse not answered as expected, without and with
the mix; exits 1 if any of those counts is not zero. The goal is >= 200 good req/s for the
default model.

    .venv/bin/python -m bench.serve_load                      # starts its own server on models/stance
    .venv/bin/python -m bench.serve_load --workers 1 2 4      # one run per worker count
    .venv/bin/python -m bench.serve_load --url http://127.0.0.1:5001   # a running `make serve`
    .venv/bin/python -m bench.serve_load --plain-mlflow       # `mlflow models serve` instead
    .venv/bin/python -m bench.serve_load --no-abuse           # without the abuse run
    .venv/bin/python -m bench.serve_load --quick              # smoke: a few requests
"""
from __future__ import annotations

import argparse
import functools
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import ROOT
from pipeline.catalog import STANCE_MODEL, Catalog
from pipeline.config import PathsConfig
from pipeline.errors import PipelineError, run_cli

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


WORDS = "we will never accept this vote and the referendum has no legal force under any law".split()
LEAVER_BATCH = json.dumps({"inputs": [{"text": " ".join(WORDS[(row + word) % len(WORDS)] for word in range(700)),
                                       "speaker": "A speaker"} for row in range(850)]}).encode()  # 3 MB, valid


@dataclass(frozen=True)
class Abuse:
    """One kind of hostile client: seconds between its requests, the status it must get (None: no
    answer expected), and the exchange, which returns the status seen (0: none)."""

    name: str
    every: float
    expected: int | None
    exchange: Callable[[str, int, threading.Event], int]


def http_request(body: bytes, content_length: int | None = None, content_type: str | None = "application/json"
                 ) -> bytes:
    """A raw POST /invocations: head and body, the body possibly other than the declared length."""
    head = ["POST /invocations HTTP/1.1", "Host: 127.0.0.1",
            f"Content-Length: {len(body) if content_length is None else content_length}"]
    head += [f"Content-Type: {content_type}"] if content_type else []
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def status_of(connection: socket.socket) -> int:
    """The status code of the answer on a raw connection (0 if it closed without one)."""
    first = connection.recv(65536).split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) > 1 and first[1].isdigit() else 0


def exchange_whole(request: bytes) -> Callable[[str, int, threading.Event], int]:
    """Send the whole request, then read the answer's status."""
    def exchange(host: str, port: int, stop: threading.Event) -> int:
        with socket.create_connection((host, port), timeout=60) as connection:
            connection.sendall(request)
            return status_of(connection)
    return exchange


def trickle(host: str, port: int, stop: threading.Event) -> int:
    """A slow client: a 1,000-byte body declared, then one byte every half second until the run ends."""
    with socket.create_connection((host, port), timeout=60) as connection:
        connection.sendall(http_request(b'{"inputs": [', content_length=1_000))
        while not stop.wait(0.5):
            connection.sendall(b" ")
        connection.setblocking(False)
        try:
            return status_of(connection)
        except BlockingIOError:  # nothing answered while it was still sending: as it should be
            return 0


def leave_early(host: str, port: int, stop: threading.Event) -> int:
    """Send a valid 3 MB batch, then leave after half a second without reading the answer."""
    with socket.create_connection((host, port), timeout=60) as connection:
        connection.sendall(http_request(LEAVER_BATCH))
        stop.wait(0.5)
    return 0


def oversized(host: str, port: int, stop: threading.Event) -> int:
    """A 51 MB body, sent whole (the server answers from its Content-Length and discards the rest)."""
    return exchange_whole(OVERSIZED_REQUEST())(host, port, stop)


OVERSIZED_REQUEST = functools.cache(lambda: http_request(b'{"inputs": [' + b" " * (51 * 2**20 - 13) + b"]"))
ABUSE = (
    Abuse("51 MB body", 1.0, 413, oversized),
    Abuse("5,001-digit integer", 0.1, 400,
          exchange_whole(http_request(b'{"inputs": [{"text": "fine", "speaker": ' + b"7" * 5001 + b"}]}"))),
    Abuse("no Content-Type", 0.1, 415,
          exchange_whole(http_request(json.dumps({"inputs": [GOOD[0]]}).encode(), content_type=None))),
    *(Abuse("slow client", 0.0, None, trickle) for _ in range(4)),
    Abuse("3 MB batch, client leaves", 2.0, None, leave_early),
)


@dataclass
class AbuseTally:
    """Per kind of abuse: requests sent, and the answers that were not the expected one."""

    sent: dict[str, int] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def abuser(url: str, abuse: Abuse, stop: threading.Event, tally: AbuseTally) -> None:
    """Send one kind of abuse at its pace until `stop` is set."""
    parts = urllib.parse.urlsplit(url)
    while not stop.is_set():
        try:
            status = abuse.exchange(parts.hostname, parts.port, stop)
            problem = None if status == (abuse.expected or 0) else str(status or "no answer")
        except OSError as error:
            problem = None if abuse.expected is None else str(error)
        with tally.lock:
            tally.sent[abuse.name] = tally.sent.get(abuse.name, 0) + 1
            if problem is not None:
                tally.unexpected.append(f"{abuse.name}: {problem}")
        stop.wait(abuse.every)


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
        good = json.dumps({"inputs": [GOOD[number % len(GOOD)]]}).encode()
        body = BAD[number // bad_every % len(BAD)] if bad else good
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


def load(url: str, clients: int, duration: float, budget: int, bad_every: int, abuse: tuple[Abuse, ...] = ()
         ) -> dict:
    """The good and bad requests of `clients` clients, with the `abuse` clients beside them until they finish."""
    tally, tickets, abused, stop = Tally(), itertools.count(), AbuseTally(), threading.Event()
    abusers = [threading.Thread(target=abuser, args=(url, kind, stop, abused)) for kind in abuse]
    for thread in abusers:
        thread.start()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(url, tickets, budget, started + duration, bad_every, tally))
               for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    stop.set()
    for thread in abusers:
        thread.join()
    total = len(tally.good_latencies) + len(tally.good_failed) + tally.bad_rejected + len(tally.bad_accepted)
    return {"requests": total, "seconds": seconds, "req_per_s": total / seconds,
            "good_per_s": len(tally.good_latencies) / seconds,
            "p50_ms": 1000 * percentile(tally.good_latencies, 0.50),
            "p99_ms": 1000 * percentile(tally.good_latencies, 0.99),
            "good_ok": len(tally.good_latencies), "good_failed": len(tally.good_failed),
            "bad_rejected": tally.bad_rejected, "bad_not_rejected": len(tally.bad_accepted),
            "abuse_sent": dict(abused.sent), "abuse_unexpected": len(abused.unexpected),
            "examples": (tally.good_failed + tally.bad_accepted + abused.unexpected)[:3]}


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


def measure(url: str, args: argparse.Namespace) -> list[dict]:
    """The /ping baseline, then the load run without and (unless --no-abuse) with the abuse mix, on one server."""
    baseline = ping_rate(url, args.clients, max(2.0, args.duration / 3))
    runs = [("none", ())] + ([] if args.no_abuse else [("the mix", ABUSE)])
    return [{"abuse": name, "ping_per_s": baseline,
             **load(url, args.clients, args.duration, args.requests, args.bad_every, mix)} for name, mix in runs]


def abuse_summary() -> str:
    kinds: dict[str, list[Abuse]] = {}
    for abuse in ABUSE:
        kinds.setdefault(abuse.name, []).append(abuse)
    return ", ".join(f"{len(same)} x {name} " + (f"every {same[0].every:g} s" if same[0].every else "held open")
                     + (f" (expect {same[0].expected})" if same[0].expected else "") for name, same in kinds.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_load", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Catalog(PathsConfig(), ROOT).path(STANCE_MODEL))
    parser.add_argument("--url", help="load a running server instead of starting one (127.0.0.1 only)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server workers; one run per count")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--duration", type=float, default=15, help="seconds per run, at most")
    parser.add_argument("--requests", type=int, default=6000, help="requests per run, at most")
    parser.add_argument("--bad-every", type=int, default=10, help="every Nth request is a bad one (0: none)")
    parser.add_argument("--no-abuse", action="store_true", help="skip the run with the abuse mix beside the load")
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
            rows += [{"workers": "(running)", **row} for row in measure(args.url, args)]
            continue
        with tempfile.TemporaryDirectory(prefix="serve-load-") as scratch:
            url, process = start_server(args.model, workers, Path(scratch) / "serve.log", args.plain_mlflow)
            try:
                load(url, 1, 2, 10, 0)  # warm-up: first requests import and load lazily
                rows += [{"workers": workers, **row} for row in measure(url, args)]
            finally:
                stop(process)
    server = "plain `mlflow models serve`" if args.plain_mlflow else "`make serve` (pipeline.serving.server)"
    print(f"{server} on {args.url or args.model}; {args.clients} clients on 127.0.0.1, at most "
          f"{args.duration:g} s or {args.requests} requests per run, every {args.bad_every}th request bad "
          f"(single-quote good requests; goal: >= 200 good req/s, 0 failed). Baseline: GET /ping req/s with "
          f"the same clients on the same server just before (HTTP and client cost, no model). Each server runs "
          f"the load alone (abuse: none), then again with the abuse mix beside it (abuse: the mix): "
          f"{abuse_summary()}.\n")
    print("| workers | abuse | requests | s | req/s | good req/s | /ping req/s | good / ping | p50 ms | p99 ms "
          "| good failed | bad rejected (4xx) | bad not rejected | abuse sent | abuse not answered as expected |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['workers']} | {row['abuse']} | {row['requests']} | {row['seconds']:.1f} | "
              f"{row['req_per_s']:.0f} | {row['good_per_s']:.0f} | {row['ping_per_s']:.0f} | "
              f"{row['good_per_s'] / row['ping_per_s']:.2f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
              f"{row['good_failed']} | {row['bad_rejected']} | {row['bad_not_rejected']} | "
              f"{sum(row['abuse_sent'].values())} | {row['abuse_unexpected']} |")
    sent = [row["abuse_sent"] for row in rows if row["abuse_sent"]]
    if sent:
        print("\nAbuse sent per run: " + "; ".join(", ".join(f"{name} {count}" for name, count in kinds.items())
                                                  for kinds in sent))
    failures = [example for row in rows for example in row["examples"]]
    if failures:
        print(f"\nfailures, first few: {failures}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
