"""Evaluate stage: the candidate model on gold labels -> reports/metrics.json, plots, error table.

Held-out protocol: the saved candidate predicts the test articles. Cross-validation: a
fresh model of the same configuration is fitted per fold and predicts that fold's gold
quotes. `majority` and `weak_only` (the label model) are scored under the same protocol,
so every run says how far it is above its baselines; one that cannot run on the rows (weak_only
without labeling-function votes, on an already-labelled dataset) is named with the reason. A
labelled dataset's official metric (SemEval's F_avg) is reported beside macro-F1. Everything goes
to the MLflow run that the train stage opened.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import tracking
from pipeline.catalog import (
    CANDIDATE_MODEL,
    CONFUSION,
    CONFUSION_PLOT,
    ERRORS,
    LABELING_REPORT,
    METRICS,
    SPLIT,
    Catalog,
    written_by,
)
from pipeline.config import ModelConfig, Params, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import atomic_open, staged_outputs
from pipeline.metrics import OFFICIAL_METRICS, bootstrap_interval, classification_metrics, macro_f1
from pipeline.models import StanceModel, build_model, fits_per_target, load_model
from pipeline.records import LABELS, model_examples, read_split


def baseline_configs(params: Params) -> dict[str, ModelConfig]:
    """The baseline models: the majority label, and the label stage's label model as configured there."""
    labeling = params.labeling
    return {"majority": ModelConfig(name="majority"),
            "weak_only": ModelConfig(name="weak_only", params={"epochs": labeling.label_model_epochs,
                                                               "lr": labeling.label_model_lr,
                                                               "default_label": labeling.default_label})}


def out_of_fold_proba(rows: list[dict[str, Any]], config: ModelConfig, seed: int,
                      per_target: bool = False) -> tuple[list[dict], np.ndarray]:
    """Cross-validated probabilities: each gold row predicted by a model that never saw its fold."""
    evaluated = [row for row in rows if row["fold"] >= 0]
    proba = np.zeros((len(evaluated), len(LABELS)))
    for fold in sorted({row["fold"] for row in evaluated}):
        train = [row for row in rows if row["fold"] != fold]
        model = build_model(config, seed, per_target).fit(train, [r["label"] for r in train],
                                                          [r["confidence"] for r in train])
        positions = [i for i, row in enumerate(evaluated) if row["fold"] == fold]
        proba[positions] = model.predict_proba([evaluated[i] for i in positions])
    return evaluated, proba


def holdout_proba(train: list[dict], test: list[dict], config: ModelConfig, seed: int,
                  per_target: bool = False) -> np.ndarray:
    model = build_model(config, seed, per_target).fit(train, [r["label"] for r in train],
                                                      [r["confidence"] for r in train])
    return model.predict_proba(test)


def cannot_run(config: ModelConfig, train: list[dict[str, Any]], seed: int) -> str | None:
    """Why a baseline cannot be fitted on these rows (None when it can): the label model needs
    labeling-function votes, which an already-labelled dataset's rows do not have."""
    if build_model(config, seed).needs_votes and not any(row.get("votes") for row in train):
        return "needs labeling-function votes; no training quote has any (an already-labelled dataset)"
    return None


def scores(gold: list[str], predicted: list[str], metric: str) -> dict[str, float]:
    """macro_f1, and the dataset's official metric when it is another one."""
    return {"macro_f1": macro_f1(gold, predicted), metric: OFFICIAL_METRICS[metric](gold, predicted)}


def per_target_scores(rows: list[dict[str, Any]], predicted: list[str], metric: str) -> dict[str, dict[str, float]]:
    """The scores of each target's rows (the per-target models' own figures)."""
    table = {}
    for target in sorted({row["target"] for row in rows}):
        positions = [i for i, row in enumerate(rows) if row["target"] == target]
        gold = [rows[i]["label"] for i in positions]
        table[target] = {"n": len(positions), **scores(gold, [predicted[i] for i in positions], metric)}
    return table


def predictions(proba: np.ndarray) -> list[str]:
    return [LABELS[index] for index in proba.argmax(axis=1)]


def error_table(rows: list[dict[str, Any]], proba: np.ndarray) -> list[dict[str, Any]]:
    """Misclassified quotes with their speakers, most confident mistakes first."""
    errors = []
    for row, scores, predicted in zip(rows, proba, predictions(proba)):
        if predicted != row["label"]:
            errors.append({"article_id": row["article_id"], "speaker": row.get("speaker") or "",
                           "quote": row["text"], "gold": row["label"], "predicted": predicted,
                           **{f"p_{label}": round(float(s), 4) for label, s in zip(LABELS, scores)}})
    return sorted(errors, key=lambda e: -e[f"p_{e['predicted']}"])


def confusion_png(metrics: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(metrics["confusion_matrix"]["counts"] if "confusion_matrix" in metrics
                        else np.zeros((len(LABELS), len(LABELS)), dtype=int))
    figure, axes = plt.subplots(figsize=(4.2, 3.6), dpi=120)
    axes.imshow(counts, cmap="Blues")
    axes.set_xticks(range(len(LABELS)), LABELS)
    axes.set_yticks(range(len(LABELS)), LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title, fontsize=9)
    for (i, j), value in np.ndenumerate(counts):
        axes.text(j, i, str(value), ha="center", va="center",
                  color="white" if value > counts.max() / 2 else "black")
    figure.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        figure.savefig(handle, format="png", metadata={"Software": None})
    plt.close(figure)


NOT_EVALUATED = "no gold labels: not evaluated; annotate with `python -m pipeline.annotate export`"


def unevaluated_metrics(summary: dict[str, Any], labeling: dict[str, Any] | None, model: str) -> dict[str, Any]:
    """metrics.json of a run without gold: what the model learned from, and why there is no score.

    `macro_f1` is null, not 0: nothing was measured (export then never makes the model champion).
    """
    weak = (labeling or {}).get("label_model", {})
    functions = (labeling or {}).get("functions", {})
    return {"protocol": "none", "evaluated": False, "note": NOT_EVALUATED, "model": model, "n": 0,
            "macro_f1": None, "train_quotes": summary["train"]["quotes"],
            "weak_labels": {"labels": summary["train"]["labels"], "no_votes": weak.get("no_votes"),
                            "mean_confidence": weak.get("mean_confidence"),
                            "coverage": {name: stats["coverage"] for name, stats in sorted(functions.items())}}}


def scores_saved_candidate(summary: dict[str, Any]) -> bool:
    """Whether the protocol scores the trained candidate itself: held-out test rows do; cross-validation
    fits a fresh model per fold instead, and a split without gold scores nothing."""
    return summary["protocol"] not in ("none", "cross_validation")


def evaluate_rows(rows: dict[str, list[dict[str, Any]]], summary: dict[str, Any], params: Params,
                  candidate: StanceModel | None = None, labeling_report: dict[str, Any] | None = None
                  ) -> tuple[dict[str, Any], list[dict], np.ndarray]:
    """Metrics of the candidate and the baselines, plus the evaluated rows and their probabilities.

    `rows` and `summary` are the split (records.read_split); `candidate` is the trained model, needed
    when scores_saved_candidate(summary); `labeling_report` describes the weak labels of a run without gold.
    """
    if summary["protocol"] == "none":
        return unevaluated_metrics(summary, labeling_report, params.model.name), [], np.zeros((0, len(LABELS)))
    train, test = model_examples(rows["train"], params.target), model_examples(rows["test"], params.target)
    if not test:
        raise PipelineError("no gold-labelled quotes to evaluate on: annotate some (docs/annotation.md)")
    labelled = params.corpus.labelled
    per_target = labelled is not None and labelled.per_target
    metric = labelled.metric if labelled is not None else "macro_f1"
    cross_validated = summary["protocol"] == "cross_validation"
    if cross_validated:
        evaluated, proba = out_of_fold_proba(train, params.model, params.seed, per_target)
    else:
        if candidate is None:
            raise PipelineError(f"protocol {summary['protocol']} scores the trained candidate, and none was given")
        evaluated, proba = test, candidate.predict_proba(test)
    gold, predicted = [row["label"] for row in evaluated], predictions(proba)
    metrics = classification_metrics(gold, predicted)
    for name in dict.fromkeys(["macro_f1", metric]):
        low, high = bootstrap_interval(gold, predicted, OFFICIAL_METRICS[name], params.split.bootstrap_samples,
                                       params.seed)
        metrics.setdefault(name, OFFICIAL_METRICS[name](gold, predicted))
        metrics.update({f"{name}_ci95_low": low, f"{name}_ci95_high": high})
    metrics.update({"metric": metric, "model": params.model.name, "protocol": summary["protocol"],
                    "n_splits": summary["n_splits"], "train_quotes": summary["train"]["quotes"],
                    "models": "one per target" if fits_per_target(params.model, per_target) else "one"})
    if fits_per_target(params.model, per_target):
        metrics["per_target"] = per_target_scores(evaluated, predicted, metric)
    metrics["baselines"], metrics["skipped_baselines"] = {}, {}
    for name, config in baseline_configs(params).items():
        if reason := cannot_run(config, train, params.seed):
            metrics["skipped_baselines"][name] = reason
            continue
        baseline = (out_of_fold_proba(train, config, params.seed, per_target)[1] if cross_validated
                    else holdout_proba(train, test, config, params.seed, per_target))
        metrics["baselines"][name] = scores(gold, predictions(baseline), metric)
    return metrics, evaluated, proba


def log_to_mlflow(params: Params, root: Path, metrics: dict[str, Any], artifacts: list[Path]) -> str:
    """Complete the run train opened for this candidate (or open one: see tracking.pipeline_run)."""
    import mlflow

    candidate = Catalog(params.paths, root).path(CANDIDATE_MODEL)
    with tracking.pipeline_run(params, root, candidate) as run:
        mlflow.log_metrics(tracking.evaluation_metrics(metrics))
        for path in artifacts:
            mlflow.log_artifact(str(path), artifact_path="evaluation")
        mlflow.log_artifacts(str(candidate), artifact_path="candidate_model")
    return run.info.run_id


def write_evaluation(folder: Path, metrics: dict[str, Any], evaluated: list[dict], proba: np.ndarray,
                     model: str) -> None:
    """The evaluate stage's artifacts (metrics.json, errors.csv, the confusion plots) into `folder`, which
    stands for the reports folder."""
    confusion_rows = [{"actual": row["label"], "predicted": predicted}
                      for row, predicted in zip(evaluated, predictions(proba))]
    CONFUSION.write_into(folder, confusion_rows, ["actual", "predicted"])
    ERRORS.write_into(folder, error_table(evaluated, proba), ["article_id", "speaker", "quote", "gold", "predicted",
                                                              *[f"p_{label}" for label in LABELS]])
    title = (f"{model}, {metrics['protocol']} (n={metrics['n']})" if metrics.get("evaluated", True)
             else f"{model}: not evaluated (no gold labels)")
    confusion_png(metrics, folder / CONFUSION_PLOT.name, title)
    METRICS.write_into(folder, metrics)


def summary_line(metrics: dict[str, Any]) -> str:
    if not metrics.get("evaluated", True):
        return f"{metrics['model']} trained on {metrics['train_quotes']} weak-labelled quotes; {metrics['note']}"
    official = metrics.get("metric", "macro_f1")
    extra = f", {official} {metrics[official]:.3f}" if official != "macro_f1" else ""
    baselines = [f"{name} {row['macro_f1']:.3f}" for name, row in metrics["baselines"].items()]
    skipped = [f"{name} skipped ({reason})" for name, reason in metrics.get("skipped_baselines", {}).items()]
    return (f"{metrics['model']} macro-F1 {metrics['macro_f1']:.3f} [{metrics['macro_f1_ci95_low']:.3f}, "
            f"{metrics['macro_f1_ci95_high']:.3f}]{extra} on {metrics['n']} gold quotes ({metrics['protocol']}); "
            + ", ".join(baselines + skipped))


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m pipeline.evaluate", description=__doc__.splitlines()[0]).parse_args(argv)
    params = load_params()
    root = project_root()
    catalog = Catalog(params.paths, root)
    rows, summary = read_split(catalog.path(SPLIT))
    candidate_folder = catalog.path(CANDIDATE_MODEL)
    candidate = load_model(candidate_folder) if scores_saved_candidate(summary) else None
    report = catalog.read_if_present(LABELING_REPORT)
    metrics, evaluated, proba = evaluate_rows(rows, summary, params, candidate, report)
    # Which model these figures are of: a later run of the same model (DVC skipped evaluate) shows them.
    metrics["candidate"] = tracking.folder_fingerprint(candidate_folder)
    # MLflow records the results before the files change: an interrupted stage changes no file.
    with staged_outputs(catalog.folder("reports")) as staged:
        write_evaluation(staged, metrics, evaluated, proba, params.model.name)
        run_id = log_to_mlflow(params, root, metrics, [staged / artifact.name for artifact in written_by("evaluate")])
    print(f"evaluate: {summary_line(metrics)}; MLflow run {run_id}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
