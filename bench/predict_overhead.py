"""What the exported MLflow model costs over the bare classifier inside it.

Both are measured in the same run on the same requests: quotes extracted from the development
corpus (../shared/corpus, read in place) with their context, speaker and role, cycled up to the
batch size. Single-quote latency is p50/p95 over one-row calls; throughput is rows/s on batches
of 1,000. The ratio column is exported / bare (the issue's goal: at most 1.3x).

    .venv/bin/python -m bench.predict_overhead                 # models/stance (after make repro)
    .venv/bin/python -m bench.predict_overhead --model PATH --singles 200 --repeats 5
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

from bench import ROOT
from pipeline.catalog import STANCE_MODEL, Catalog
from pipeline.config import PathsConfig
from pipeline.errors import PipelineError, run_cli

CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_requests(folder: Path, limit: int | None = None) -> list[dict[str, str]]:
    """Every quote of the corpus articles as a request (text, context, speaker, speaker_role)."""
    from pipeline.config import ExtractConfig
    from pipeline.extract import extract_stage
    from pipeline.ingest import read_article_file

    articles = [article for path in sorted(folder.glob("*.txt"))[:limit] for article in read_article_file(path)]
    quotes, _ = extract_stage(articles, ExtractConfig())
    requests = []
    for quote in quotes:
        request = {"text": quote.text, "context": quote.sentence, "speaker": quote.speaker,
                   "speaker_role": quote.speaker_role}
        requests.append({key: value for key, value in request.items() if value})
    if not requests:
        raise PipelineError("no quotes found to time", path=folder)
    return requests


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_singles(predict, requests: list[dict], count: int) -> list[float]:
    """Seconds per one-row call, over `count` calls cycling through the requests."""
    times = []
    for request in itertools.islice(itertools.cycle(requests), count):
        started = time.perf_counter()
        predict([request])
        times.append(time.perf_counter() - started)
    return times


def time_batch(predict, batch: list[dict], repeats: int) -> float:
    """Median seconds for the whole batch."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        predict(batch)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def measure(model_dir: Path, requests: list[dict], singles: int, batch_size: int, repeats: int) -> list[dict]:
    import mlflow

    exported = mlflow.pyfunc.load_model(str(model_dir))
    python_model = exported.unwrap_python_model()
    classifier, vote_source = python_model.classifier, python_model.vote_source
    target = python_model.target.name

    def bare(rows: list[dict]):
        """The classifier alone, given what it reads (plus the votes, for models that read them)."""
        if vote_source is None:
            return classifier.predict_proba(rows)
        from pipeline.serving.contract import StanceRequest

        votes = vote_source.votes([StanceRequest(**row) for row in rows])
        return classifier.predict_proba([{**row, "votes": row_votes} for row, row_votes in zip(rows, votes)])

    requests = [{**request, "target": target} for request in requests]
    batch = list(itertools.islice(itertools.cycle(requests), batch_size))
    contenders = {"bare classifier": bare, "exported pyfunc": exported.predict}
    for predict in contenders.values():  # warm up: lazy imports, first-call caches
        predict(batch[:8])
    # Interleaved rounds, so a noisy neighbour slows both contenders alike; medians over rounds.
    singles_s: dict[str, list[float]] = {name: [] for name in contenders}
    batch_s: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, predict in contenders.items():
            singles_s[name] += time_singles(predict, requests, max(1, singles // repeats))
            batch_s[name].append(time_batch(predict, batch, 1))
    rows = []
    for name in contenders:
        rows.append({"name": name, "p50_ms": 1000 * percentile(singles_s[name], 0.5),
                     "p95_ms": 1000 * percentile(singles_s[name], 0.95),
                     "rows_per_s": batch_size / statistics.median(batch_s[name])})
    return rows


def print_table(rows: list[dict], kind: str, n_requests: int, batch_size: int) -> None:
    base = rows[0]
    print(f"model kind: {kind}; {n_requests} distinct corpus quotes; batches of {batch_size}")
    print(f"{'':18}{'p50 ms':>9}{'p95 ms':>9}{'rows/s':>10}{'p50 x':>8}{'p95 x':>8}{'thru x':>8}")
    for row in rows:
        print(f"{row['name']:18}{row['p50_ms']:9.2f}{row['p95_ms']:9.2f}{row['rows_per_s']:10.0f}"
              f"{row['p50_ms'] / base['p50_ms']:8.2f}{row['p95_ms'] / base['p95_ms']:8.2f}"
              f"{base['rows_per_s'] / row['rows_per_s']:8.2f}")
    print("x = exported / bare (time ratios; thru x = bare rows/s over exported rows/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Catalog(PathsConfig(), ROOT).path(STANCE_MODEL))
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--articles", type=int, default=None, help="use only the first N corpus articles")
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke test: one article, 10 singles, a batch of 50")
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.singles, args.batch_size, args.repeats = 1, 10, 50, 1
    if not (args.model / "MLmodel").is_file():
        raise PipelineError("no exported model: run `make repro` first or pass --model", path=args.model)
    requests = corpus_requests(args.corpus, args.articles)
    rows = measure(args.model, requests, args.singles, args.batch_size, args.repeats)
    import mlflow

    kind = mlflow.models.get_model_info(str(args.model)).metadata.get("model_kind", "?")
    print_table(rows, kind, len(requests), args.batch_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
