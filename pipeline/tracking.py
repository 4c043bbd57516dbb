"""The one home of MLflow calls: where the store is, which experiment, and what every run is tagged with.

The store is an embedded SQLite file `mlflow.db` in the project root, addressed by an
absolute URI so that queued DVC experiments (which run in .dvc/tmp/exps/...) log into the
same store instead of a temp copy that DVC deletes. MLFLOW_TRACKING_URI, when set, wins.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from pipeline.catalog import LABELING_REPORT, METRICS, RUN_HANDOFF, Catalog, written_by
from pipeline.config import Params
from pipeline.files import process_alive

MAX_PARAM_CHARS = 6000  # MLflow's limit for one param value


def store_root(root: Path) -> Path:
    """The project that owns the store: queued and --temp DVC experiments run in
    <project>/.dvc/tmp/exps/<tmp>/, and their runs must land in <project>/mlflow.db."""
    root = root.resolve()
    for folder in (root, *root.parents):
        if folder.parent.name == "exps" and folder.parent.parent.name == "tmp" \
                and folder.parent.parent.parent.name == ".dvc":
            return folder.parent.parent.parent.parent
    return root


def tracking_uri(params: Params, root: Path) -> str:
    """MLFLOW_TRACKING_URI if set, else the configured uri, else sqlite:///<project>/mlflow.db."""
    return (os.environ.get("MLFLOW_TRACKING_URI") or params.tracking.uri
            or f"sqlite:///{store_root(root) / 'mlflow.db'}")


def experiment_name(params: Params) -> str:
    """One experiment per target (per labelled dataset), so runs on the same question are compared side by side."""
    return f"{params.tracking.experiment_prefix}-{params.subject}"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> {"model.params.C": "1.0", ...}; lists as JSON, long values cut to MLflow's limit."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            flat[name] = text[:MAX_PARAM_CHARS]
    return flat


def git_commit(root: Path) -> str | None:
    """HEAD's sha, with '-dirty' when tracked files differ from it; None outside git."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    if sha is None:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}-dirty" if dirty else sha


def data_hashes(root: Path) -> dict[str, str]:
    """The md5 of every stage output recorded in dvc.lock: which data version a run saw."""
    lock = root / "dvc.lock"
    if not lock.is_file():
        return {}
    stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
    hashes: dict[str, str] = {}
    for stage in stages.values():
        for entry in [*stage.get("deps", []), *stage.get("outs", [])]:
            if "md5" in entry:
                hashes[entry["path"]] = entry["md5"]
    return dict(sorted(hashes.items()))


DATA_VERSIONS = "data_versions.json"  # the run's artifact with every dvc.lock hash


def data_version(hashes: Mapping[str, str]) -> str:
    """One short fingerprint of all the data a run saw (its file, DATA_VERSIONS, has each hash)."""
    return hashlib.sha256(json.dumps(dict(sorted(hashes.items()))).encode()).hexdigest()[:12] if hashes else ""


def run_tags(root: Path) -> dict[str, str]:
    """Tags that tie a run to its code, its DVC experiment and its data (one fingerprint; the
    hashes themselves are the DATA_VERSIONS artifact, not 27 tags crowding the run page)."""
    tags = {"git_commit": git_commit(root) or "unknown",
            "dvc_exp_name": os.environ.get("DVC_EXP_NAME", ""),
            "dvc_exp_baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
            "dvc_stage": os.environ.get("DVC_STAGE", ""),
            "data_version": data_version(data_hashes(root))}
    return {key: value for key, value in tags.items() if value}


def run_name(params: Params) -> str:
    """A name that tells runs apart in the UI: model kind, target, and the DVC experiment if any."""
    experiment = os.environ.get("DVC_EXP_NAME")
    return f"{params.model.name} · {params.subject}" + (f" · {experiment}" if experiment else "")


# A model-training experiment: MLflow 3's UI then opens on its runs, not on the GenAI overview.
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}


def configure(params: Params, root: Path) -> str:
    """Point MLflow at the store and the target's experiment; returns the experiment id.

    A new experiment's artifacts go to <project>/mlruns explicitly: MLflow would otherwise
    take the current folder, which for a queued DVC experiment is deleted afterwards.
    """
    import mlflow

    uri = tracking_uri(params, root)
    mlflow.set_tracking_uri(uri)
    name = experiment_name(params)
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is None and uri.startswith("sqlite:///"):
        artifacts = Path(uri.removeprefix("sqlite:///")).parent / "mlruns"
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri(), tags=EXPERIMENT_TAGS)
    experiment = mlflow.set_experiment(name)
    for key, value in EXPERIMENT_TAGS.items():
        if experiment.tags.get(key) != value:
            client.set_experiment_tag(experiment.experiment_id, key, value)
    close_killed_runs(client, experiment.experiment_id)
    return experiment.experiment_id


# Which process has a run open: a stage killed outright (SIGKILL, a power cut) cannot end its run,
# so the next stage to start marks such runs KILLED instead of leaving them RUNNING for ever.
PROCESS_TAGS = ("pipeline.host", "pipeline.pid")


def process_tags() -> dict[str, str]:
    return dict(zip(PROCESS_TAGS, (socket.gethostname(), str(os.getpid()))))


def close_killed_runs(client: Any, experiment_id: str) -> list[str]:
    """End as KILLED the RUNNING runs whose process, on this host, is gone; returns their ids."""
    closed = []
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'"):
        host, pid = (run.data.tags.get(tag) for tag in PROCESS_TAGS)
        if host == socket.gethostname() and pid and pid.isdigit() and not process_alive(int(pid)):
            client.set_terminated(run.info.run_id, status="KILLED")
            closed.append(run.info.run_id)
    return closed


@contextlib.contextmanager
def start_run(params: Params, root: Path, name: str, run_id: str | None = None) -> Iterator[Any]:
    """A tagged MLflow run holding the flattened config; resumes `run_id` when given."""
    import mlflow

    configure(params, root)
    with mlflow.start_run(run_id=run_id, run_name=None if run_id else name) as run:
        if run_id is None:
            mlflow.log_params(flatten(params.model_dump(mode="json")))
        mlflow.set_tags({**run_tags(root), **process_tags()})
        if hashes := data_hashes(root):
            mlflow.log_dict(hashes, DATA_VERSIONS)
        yield run


def folder_fingerprint(folder: Path) -> str:
    """sha256 over a folder's file names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def pipeline_run(params: Params, root: Path, candidate: Path) -> Iterator[Any]:
    """The one MLflow run of the pipeline run that produced `candidate` (the trained model folder).

    The handoff file names the run of the last candidate and the parameters it ran with; a stage
    resumes that run when both are the same (train refitting the same model after a code change
    that did not change it, evaluate and export after train). Otherwise (a new model; other
    parameters, as in a sweep over evaluation settings; DVC restored train's output from its run
    cache; the store was reset) it opens a fresh run, so a run never mixes two models or two
    configurations. Whoever opens a run also logs the labeling report's figures and file into it.
    """
    import mlflow

    catalog = Catalog(params.paths, root)
    recorded = catalog.read_if_present(RUN_HANDOFF, {})
    current = {"candidate": folder_fingerprint(candidate), "params": params_digest(params)}
    run_id = recorded.get("run_id") if all(recorded.get(key) == value for key, value in current.items()) else None
    configure(params, root)
    if run_id is not None:
        try:
            mlflow.MlflowClient().get_run(run_id)
        except mlflow.exceptions.MlflowException:
            run_id = None
    with start_run(params, root, name=run_name(params), run_id=run_id) as run:
        if run_id is None:
            log_labeling_report(catalog)
            log_evaluation(catalog, current["candidate"])
            catalog.write(RUN_HANDOFF, {"run_id": run.info.run_id, **current})
        yield run


def params_digest(params: Params) -> str:
    return hashlib.sha256(json.dumps(params.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


DATASET_COLUMNS = ("id", "article_id", "speaker", "text", "label", "label_source", "confidence")


def log_split(rows: Mapping[str, list[dict[str, Any]]], source: Path, name: str) -> None:
    """The split as MLflow datasets (the runs table's Dataset column): one input per side, with its
    context (train / test), its rows' key columns and a digest that tells two splits apart."""
    import mlflow
    import pandas as pd

    for context, side in rows.items():
        if side:
            frame = pd.DataFrame([{column: row.get(column) for column in DATASET_COLUMNS} for row in side])
            dataset = mlflow.data.from_pandas(frame, source=str(source), targets="label", name=f"{name}-{context}")
            mlflow.log_input(dataset, context=context)


def evaluation_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The figures worth comparing across runs, flattened for MLflow (none for an unevaluated run)."""
    if not metrics.get("evaluated", True):
        return {f"weak_{label}": float(count) for label, count in metrics["weak_labels"]["labels"].items()}
    official = metrics.get("metric", "macro_f1")
    flat = {key: float(metrics[key]) for key in ("accuracy", *(f"{name}{suffix}" for name in
                                                               dict.fromkeys(["macro_f1", official])
                                                               for suffix in ("", "_ci95_low", "_ci95_high")))}
    for label, per_class in metrics["per_class"].items():
        flat.update({f"{label}_{name}": float(value) for name, value in per_class.items() if name != "support"})
    flat.update({f"baseline_{name}_{key}": value for name, row in metrics["baselines"].items()
                 for key, value in row.items()})
    return flat


def log_evaluation(catalog: Catalog, candidate: str) -> None:
    """The evaluation of this very candidate, when reports/metrics.json holds it: DVC skips evaluate
    when its inputs are unchanged (a fresh clone retrains the same model, its metrics committed), and
    the new run must still show what the model scores."""
    import mlflow

    metrics = catalog.read_if_present(METRICS, {})
    if metrics.get("candidate") != candidate:
        return
    mlflow.log_metrics(evaluation_metrics(metrics))
    for artifact in written_by("evaluate"):
        if catalog.path(artifact).is_file():
            mlflow.log_artifact(str(catalog.path(artifact)), artifact_path="evaluation")


def labeling_metrics(report: dict) -> dict[str, float]:
    """The report's numbers as flat MLflow metrics (label_model.gold_accuracy, lf.<name>.coverage, ...);
    an already-labelled dataset's report has no label model."""
    metrics = {"quotes": report["quotes"], "gold": report["gold"], "weak": report["weak"]}
    label_model = report["label_model"] or {}
    for key in ("no_votes", "gold_accuracy", "mean_confidence"):
        if label_model.get(key) is not None:
            metrics[f"label_model.{key}"] = label_model[key]
    for name, stats in report["functions"].items():
        for key in ("coverage", "overlaps", "conflicts", "gold_accuracy"):
            if stats[key] is not None:
                metrics[f"lf.{name}.{key}"] = stats[key]
    return {key: float(value) for key, value in metrics.items()}


def log_labeling_report(catalog: Catalog) -> None:
    """The label stage's report (coverage, conflicts, label-model accuracy) as metrics and a file."""
    import mlflow

    report = catalog.read_if_present(LABELING_REPORT)
    if report is not None:
        mlflow.log_metrics({f"labeling.{key}": value for key, value in labeling_metrics(report).items()})
        mlflow.log_artifact(str(catalog.path(LABELING_REPORT)), artifact_path="labeling")
