"""Train stage: the training split -> models/candidate (any model kind of the registry).

Fits the configured model on every training row (for cross-validation, on all gold and
weak rows: the folds are only for evaluation), weighting each example by its label's
confidence. Opens the pipeline run's MLflow run, which the evaluate stage completes.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from pipeline import tracking
from pipeline.catalog import CANDIDATE_MODEL, SPLIT, Catalog
from pipeline.config import Params, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import atomic_dir
from pipeline.models import StanceModel, build_model
from pipeline.records import model_examples, read_split


def check_votes(params: Params, rows: list[dict[str, Any]]) -> None:
    """A model that reads labeling-function votes cannot learn from rows without any (an already-labelled
    dataset has none), and once exported it would compute the target's votes for every request."""
    if "votes" in params.model.inputs and not any(row.get("votes") for row in rows):
        raise PipelineError(f"model.inputs reads `votes`, but no training quote has labeling-function votes "
                            f"(corpus {params.corpus.name!r}): pick a model without them, e.g. -S model=tfidf_svm",
                            field="model.inputs")


def fit_candidate(rows: list[dict[str, Any]], params: Params) -> StanceModel:
    """The configured model fitted on the training split's rows, each weighted by its label's confidence."""
    train = model_examples(rows, params.target)
    check_votes(params, train)
    labelled = params.corpus.labelled
    model = build_model(params.model, params.seed, per_target=labelled is not None and labelled.per_target)
    return model.fit(train, [row["label"] for row in train], [row["confidence"] for row in train])


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m pipeline.train", description=__doc__.splitlines()[0]).parse_args(argv)
    import mlflow

    params = load_params()
    root = project_root()
    catalog = Catalog(params.paths, root)
    split_folder = catalog.path(SPLIT)
    rows, summary = read_split(split_folder)
    started = time.perf_counter()
    model = fit_candidate(rows["train"], params)
    seconds = time.perf_counter() - started
    candidate = catalog.path(CANDIDATE_MODEL)
    with atomic_dir(candidate) as folder:
        model.save(folder)
    with tracking.pipeline_run(params, root, candidate) as run:
        mlflow.log_metrics({"train_seconds": seconds, "train_examples": float(len(rows["train"]))})
        mlflow.set_tags({"protocol": summary["protocol"], "model_kind": params.model.name})
        tracking.log_split(rows, catalog.relative(SPLIT), name=params.subject)
    print(f"train: {params.model.name} on {len(rows['train'])} quotes in {seconds:.1f} s; MLflow run {run.info.run_id}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
