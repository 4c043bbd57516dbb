"""The one home of MLflow calls: where the store is, which experiment, and what every run is tagged with.

The store is an embedded SQLite file `mlflow.db` in the project root, addressed by an
absolute URI so that queued DVC experiments (which run in .dvc/tmp/exps/...) log into the
same store instead of a temp copy that DVC deletes. MLFLOW_TRACKING_URI, when set, wins.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import Params

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
    """One experiment per target, so runs on the same question are compared side by side."""
    return f"{params.tracking.experiment_prefix}-{params.target.id}"


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


def run_tags(root: Path) -> dict[str, str]:
    """Tags that tie a run to its code, its DVC experiment and its data."""
    tags = {"git_commit": git_commit(root) or "unknown",
            "dvc_exp_name": os.environ.get("DVC_EXP_NAME", ""),
            "dvc_exp_baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", ""),
            "dvc_stage": os.environ.get("DVC_STAGE", "")}
    tags.update({f"data.{path}": md5 for path, md5 in data_hashes(root).items()})
    return {key: value for key, value in tags.items() if value}


def configure(params: Params, root: Path) -> str:
    """Point MLflow at the store and the target's experiment; returns the experiment id.

    A new experiment's artifacts go to <project>/mlruns explicitly: MLflow would otherwise
    take the current folder, which for a queued DVC experiment is deleted afterwards.
    """
    import mlflow

    uri = tracking_uri(params, root)
    mlflow.set_tracking_uri(uri)
    name = experiment_name(params)
    experiment = mlflow.MlflowClient(tracking_uri=uri).get_experiment_by_name(name)
    if experiment is None and uri.startswith("sqlite:///"):
        artifacts = Path(uri.removeprefix("sqlite:///")).parent / "mlruns"
        mlflow.create_experiment(name, artifact_location=artifacts.as_uri())
    return mlflow.set_experiment(name).experiment_id


@contextlib.contextmanager
def start_run(params: Params, root: Path, run_name: str, run_id: str | None = None) -> Iterator[Any]:
    """A tagged MLflow run holding the flattened config; resumes `run_id` when given."""
    import mlflow

    configure(params, root)
    with mlflow.start_run(run_id=run_id, run_name=None if run_id else run_name) as run:
        if run_id is None:
            mlflow.log_params(flatten(params.model_dump(mode="json")))
        mlflow.set_tags(run_tags(root))
        yield run
