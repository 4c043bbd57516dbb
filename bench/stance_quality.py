"""Stance quality on public datasets with the pipeline's own code, beside the published anchors.

Each set is a labelled `corpus` (conf/corpus/<set>.yaml, read in place from ../shared/data) on its own split; each
row a registry kind with its conf/model defaults, a variant (bench/stance_quality.yaml), or `<kind>_tuned` (the
kind's grid searched on a dev split of the training rows). The protocol is pipeline/protocol.py's; a kind's cost,
CPU bound, grid and English-only encoder are on its model class; every bound a row ran under is printed under its
table. Cells are kept in docs/bench/stance_quality/ (bench/quality_cells.py says why).

    python -m bench.stance_quality                                   # every set and row (hours: cached cells reused)
    python -m bench.stance_quality --sets gwsd --kinds tfidf_svm     # one cell
    python -m bench.stance_quality --from-cache                      # fit nothing: the saved cells' tables
    python -m bench.stance_quality --quick                           # smoke: tiny slices
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from bench import ROOT, SHARED_DATA
from bench.quality_cells import CellCache, Result, cell_key
from bench.quality_tables import Benchmark, print_summary, print_table, read_benchmarks
from pipeline import protocol
from pipeline.errors import run_cli
from pipeline.metrics import bootstrap_macro_f1, classification_metrics
from pipeline.models import MODEL_KINDS, fits_per_target, model_kind

TUNED = "_tuned"
CAP_STATEMENTS = {"encoding": "a stratified sample of {:,} training examples (encoding time)",
                  "fine_tuning": "a stratified sample of at most {:,} training examples"}
QUICK = {"train": 120, "test": 60, "cap": 60, "set": "gwsd", "rows": ("majority", "tfidf_svm", "tfidf_svm_tuned")}


def row_kind(row: str, variants: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The registry kind behind a row, and the params the row sets on its conf/model defaults."""
    variant = variants.get(row, {"kind": row.removesuffix(TUNED), "params": {}})
    return variant["kind"], variant["params"]


def run_cell(benchmark: Benchmark, row: str, train: list[dict], test: list[dict], args: argparse.Namespace,
             cache: CellCache) -> Result | None:
    """One (set, row) cell: read back from the cache when its key matches, else fitted and scored (None when
    --from-cache and not cached)."""
    kind, params = row_kind(row, args.variants)
    model, tuned = model_kind(kind), row.endswith(TUNED)
    cap = args.caps.get(model.training_cost, dict(benchmark.caps).get(model.training_cost))
    bounds = [CAP_STATEMENTS[model.training_cost].format(cap)] if cap and len(train) > cap else []
    train = protocol.stratified_sample(train, cap, args.seed)
    config = protocol.model_config(ROOT / "conf", kind, benchmark.inputs, benchmark.per_target)
    if model.cpu_bound is not None:
        value = args.cpu_bounds.get(kind, model.cpu_bound.quick_value if args.quick else model.cpu_bound.value)
        params = {**params, model.cpu_bound.param: value}
        if not (tuned and model.cpu_bound.param in model.tuning_grid):
            bounds.append(model.cpu_bound.statement.format(value))
    config, per_target = protocol.with_params(config, params), fits_per_target(config, benchmark.per_target)
    key = cell_key(benchmark.name, row, config, per_target, train, test, args.seed,
                   *((model.tuning_grid, protocol.DEV_FRACTION) if tuned else ()))
    result = cache.result(key)
    if result is not None or args.from_cache:
        return result
    if tuned:
        tuning = protocol.tune(config, train, benchmark.metric, args.seed, benchmark.per_target,
                               cache.dev_scores(key), lambda scores: cache.save_dev_scores(key, scores))
        config = protocol.with_params(config, tuning.best)
        tried = ", ".join(f"{format_point(p)} {s * benchmark.scale:.{benchmark.digits}f}" for p, s in tuning.scores)
        bounds.append(f"dev-tuned on {protocol.DEV_FRACTION:.0%} of train ({tried}; tuning {tuning.seconds:.0f} s): "
                      f"refitted with {format_point(tuning.best)}")
    started = time.perf_counter()
    guess = protocol.fit_predict(config, train, test, args.seed, benchmark.per_target)
    seconds, gold = time.perf_counter() - started, [r["label"] for r in test]
    official = protocol.official_score(benchmark.metric, gold, guess) * benchmark.scale
    models = f"one per target ({len({r['target'] for r in test})})" if per_target else "one"
    result = Result(row, list(config.inputs), models, len(train), official, classification_metrics(gold, guess),
                    bootstrap_macro_f1(gold, guess, 1000, args.seed), seconds, ", ".join(bounds),
                    dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    cache.write(key, result)
    return result


def format_point(point: dict[str, Any]) -> str:
    return " ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                    for key, value in point.items())


def assignments(items: list[str], value_type: type = int) -> dict[str, Any]:
    """NAME=VALUE arguments as a mapping."""
    return {name: value_type(value) for name, value in (item.split("=", 1) for item in items)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The options, with the sets (args.benchmarks), the variants and quick mode's slices applied."""
    benchmarks, layout = read_benchmarks()
    rows = [*layout["rows"], *(f"{kind}{TUNED}" for kind, model in MODEL_KINDS.items() if model.tuning_grid)]
    parser = argparse.ArgumentParser(prog="python -m bench.stance_quality", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=list(benchmarks), default=list(benchmarks))
    parser.add_argument("--kinds", nargs="+", choices=rows, default=rows, help="the rows to run")
    parser.add_argument("--cap", action="append", default=[], metavar="COST=N",
                        help=f"kinds of this training cost ({', '.join(CAP_STATEMENTS)}) read a stratified sample of "
                             "at most N training rows on every set (default: the set's own caps; 0: none)")
    parser.add_argument("--cpu-bound", action="append", default=[], metavar="KIND=VALUE",
                        help="the value of the kind's CPU-bound param (finetune: epochs 3; setfit: max_steps 100)")
    parser.add_argument("--fine-tuning-sets", nargs="+", choices=list(benchmarks), default=list(benchmarks),
                        help="the sets the fine-tuning kinds (setfit, finetune) run on: minutes to hours each")
    parser.add_argument("--tune-sets", nargs="+", choices=list(benchmarks), default=list(benchmarks),
                        help="the sets the <kind>_tuned rows run on (a grid of fits each)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", type=Path, default=ROOT / "docs" / "bench" / "stance_quality",
                        help="one JSON per (set, row) cell; a cell whose key matches is reused")
    parser.add_argument("--fresh", action="store_true", help="refit every cell (and write no cache)")
    parser.add_argument("--from-cache", action="store_true", help="fit nothing: print the cached cells")
    parser.add_argument("--quick", action="store_true", help="smoke test: GWSD only, 120 training and 60 test rows, "
                                                             "majority and tfidf_svm (plain and dev-tuned)")
    args = parser.parse_args(argv)
    args.benchmarks, args.variants = benchmarks, layout["variants"]
    args.caps = {cost: n or None for cost, n in assignments(args.cap).items()}
    if set(args.caps) - set(CAP_STATEMENTS):
        parser.error(f"--cap takes one of {', '.join(CAP_STATEMENTS)}")
    bounded = {kind: model.cpu_bound for kind, model in MODEL_KINDS.items() if model.cpu_bound}
    args.cpu_bounds = assignments(args.cpu_bound, str)
    if set(args.cpu_bounds) - set(bounded):
        parser.error(f"--cpu-bound takes one of {', '.join(bounded)}")
    args.cpu_bounds = {kind: type(bounded[kind].value)(value) for kind, value in args.cpu_bounds.items()}
    args.first_note = ""
    if args.quick:
        args.sets = [s for s in args.sets if s == QUICK["set"]] or args.sets[:1]
        args.kinds = [k for k in args.kinds if k in QUICK["rows"]] or args.kinds[:1]
        args.caps = dict.fromkeys(CAP_STATEMENTS, QUICK["cap"])
        args.first_note = (f"QUICK MODE: at most {QUICK['train']} training and {QUICK['test']} test rows; "
                           "not comparable to the anchors")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not SHARED_DATA.is_dir():
        print(f"skipped: {SHARED_DATA} not found")
        return 0
    cache = CellCache(None if args.quick or args.fresh else args.cache)
    print("Scores of the pipeline's model kinds (conf/model defaults) on each set's own split; the **bold** column "
          "is the set's official metric. `vs anchor` = this figure minus the LinearSVC TF-IDF anchor measured on "
          "the same files.\n")
    results_by_set: dict[str, list[Result]] = {}
    for name in args.sets:
        benchmark, (train, test) = args.benchmarks[name], protocol.given_split(ROOT, name)
        if args.quick:
            train = protocol.stratified_sample(train, QUICK["train"], args.seed)
            test = protocol.stratified_sample(test, QUICK["test"], args.seed)
        results, skipped = results_by_set.setdefault(name, []), []
        for row in [r for r in args.kinds if name in args.tune_sets or not r.endswith(TUNED)]:
            fine_tuning = model_kind(row_kind(row, args.variants)[0]).training_cost == "fine_tuning"
            print(f"  {name}: {row} ...", file=sys.stderr, flush=True)
            result = None if fine_tuning and name not in args.fine_tuning_sets else \
                run_cell(benchmark, row, train, test, args, cache)
            if result is None:
                skipped.append(row)
                continue
            results.append(result)
            print(f"  {name}: {row} {result.metric:.3f} in {result.fit_s:.0f} s", file=sys.stderr, flush=True)
        english = any(model_kind(row_kind(r.name, args.variants)[0]).english_only_encoder for r in results)
        print_table(benchmark, results, len(train), len(test), args.first_note, english)
        if skipped:
            print(f"Not run here (CPU time): {', '.join(skipped)}; `python -m bench.stance_quality --sets {name} "
                  f"--kinds {' '.join(skipped)} --fine-tuning-sets {name}` runs them.\n")
    print_summary(args.benchmarks, results_by_set)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
