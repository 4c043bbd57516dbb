"""The evaluation protocol of labelled stance sets, for comparing model kinds on them (the bench drives it).

A set is scored by its official metric (pipeline/evaluate.py's OFFICIAL_METRICS: SemEval's F_avg, else
macro-F1). Where the set asks for one model per target (`corpus.labelled.per_target`, SemEval-2016 Task 6,
as its organisers' baselines did), the registry wraps each kind per target, except a kind that declines
(`fits_per_target`): that one reads the target instead. Tuning sees the training rows only: a kind's grid
(`tuning_grid`, on its model class) is scored on a stratified dev split of them and the best point wins.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import ModelConfig, compose, validate_params
from pipeline.labelled_corpus import load_labelled_corpus
from pipeline.metrics import OFFICIAL_METRICS
from pipeline.models import build_model, model_kind
from pipeline.split import plan_split

DEV_FRACTION = 0.2


def given_split(root: Path, corpus: str) -> tuple[list[dict], list[dict]]:
    """The train and test rows of a labelled corpus (conf/corpus/<corpus>.yaml) by its own split; its
    train_splits may add more (SemEval's official training set is trial + training)."""
    params = validate_params(compose(root / "conf", [f"corpus={corpus}"]), source=f"conf/ (corpus={corpus})")
    quotes = load_labelled_corpus(params.corpus, root).quotes
    plan = plan_split(quotes, params.split.model_copy(update={"protocol": "given"}), params.seed,
                      params.corpus.labelled.train_splits)
    return [q.model_dump() for q in plan.train], [q.model_dump() for q in plan.test]


def model_config(conf_dir: Path, kind: str, inputs: Sequence[str] | None = None,
                 per_target: bool = False) -> ModelConfig:
    """conf/model/<kind>.yaml as Hydra composes it, reading `inputs` (default: its own); on a per-target set a
    kind that is not fitted per target reads the target first (one target-aware model then serves every target)."""
    composed = compose(conf_dir, [f"model={kind}"])["model"]
    inputs = composed["inputs"] if inputs is None else list(inputs)
    if per_target and not model_kind(kind).fits_per_target and "target" not in inputs:
        inputs = ["target", *inputs]
    return ModelConfig.model_validate({**composed, "inputs": inputs})


def with_params(config: ModelConfig, params: dict[str, Any]) -> ModelConfig:
    return config.model_copy(update={"params": {**config.params, **params}})


def stratified_sample(rows: list[dict], cap: int | None, seed: int) -> list[dict]:
    """At most `cap` rows with the label proportions kept (all rows when cap is None or larger)."""
    if cap is None or len(rows) <= cap:
        return rows
    from sklearn.model_selection import train_test_split

    kept, _ = train_test_split(rows, train_size=cap, random_state=seed, stratify=[r["label"] for r in rows])
    return kept


def dev_split(rows: list[dict], seed: int, fraction: float = DEV_FRACTION) -> tuple[list[dict], list[dict]]:
    """The rows to fit on and a stratified (target, label) `fraction` of them to tune on.

    A (target, label) pair seen once (VAST has thousands of topics) is stratified by its label alone, and a
    label then still alone joins the largest stratum (a stratum of one cannot be split)."""
    from sklearn.model_selection import train_test_split

    pairs = [f"{row['target']}|{row['label']}" for row in rows]
    seen = Counter(pairs)
    strata = [pair if seen[pair] > 1 else row["label"] for pair, row in zip(pairs, rows)]
    seen = Counter(strata)
    largest = seen.most_common(1)[0][0]
    strata = [stratum if seen[stratum] > 1 else largest for stratum in strata]
    fit, dev = train_test_split(rows, test_size=fraction, random_state=seed, stratify=strata)
    return fit, dev


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of a grid, in the grid's order (the first values first: they win ties)."""
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def fit_predict(config: ModelConfig, train: list[dict], test: list[dict], seed: int,
                per_target: bool = False) -> list[str]:
    """Labels for `test` from a model fitted on `train` (one per target where the set asks and the kind agrees).
    Trainers print progress to stdout: it goes to stderr, so a caller's stdout (a table) stays its own."""
    model = build_model(config, seed, per_target)
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(train, [row["label"] for row in train])
        return model.predict(test)


def official_score(metric: str, gold: Sequence[str], predicted: Sequence[str]) -> float:
    return OFFICIAL_METRICS[metric](gold, predicted)


@dataclass
class Tuning:
    """The grid point with the best dev score, every point's score in grid order, and the seconds they took."""

    best: dict[str, Any]
    scores: list[tuple[dict[str, Any], float]]
    seconds: float


def point_name(point: dict[str, Any]) -> str:
    return json.dumps(point, sort_keys=True)


def tune(config: ModelConfig, rows: list[dict], metric: str, seed: int, per_target: bool = False,
         scored: dict[str, dict[str, float]] | None = None,
         on_scored: Callable[[dict[str, dict[str, float]]], None] | None = None) -> Tuning:
    """Search the kind's `tuning_grid` on a dev split of the training `rows`; ties keep the earlier point.

    `scored` holds points already scored ({point_name: {"score", "seconds"}}), which are not fitted again;
    `on_scored` is called with every score so far after each new one (to resume a long search)."""
    fit, dev = dev_split(rows, seed)
    gold = [row["label"] for row in dev]
    done = dict(scored or {})
    scores, seconds = [], 0.0
    for point in grid_points(model_kind(config.name).tuning_grid):
        name = point_name(point)
        if name not in done:
            started = time.perf_counter()
            guess = fit_predict(with_params(config, point), fit, dev, seed, per_target)
            done[name] = {"score": official_score(metric, gold, guess), "seconds": time.perf_counter() - started}
            if on_scored is not None:
                on_scored(done)
        scores.append((point, done[name]["score"]))
        seconds += done[name]["seconds"]
        print(f"    dev {point}: {scores[-1][1]:.3f}", file=sys.stderr, flush=True)
    best = max(scores, key=lambda item: item[1])  # max keeps the first of equal scores
    return Tuning(best[0], scores, seconds)
