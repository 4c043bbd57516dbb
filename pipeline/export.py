"""Export stage: models/candidate -> models/stance (an MLflow pyfunc) registered as `stance-<target id>`.

The exported folder is self-contained: the classifier (skops / safetensors files), the target
and labeling config it was trained with, and a copy of this package's code, so
`mlflow.pyfunc.load_model("models/stance")` works in any Python with the dependencies, without
the repo. The same model is logged into the pipeline's MLflow run and registered; the alias
`champion` moves to the new version only when its macro-F1 beats the champion's on the same
evaluation data, else the new version is the `candidate`. reports/export.json says why; it is a
DVC metric, so it holds nothing that changes between identical runs (the MLflow run id is in
reports/mlflow_run.json, the registry version's tags name the run).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pipeline import tracking
from pipeline.catalog import CANDIDATE_MODEL, EXPORT_REPORT, METRICS, SPLIT, STANCE_MODEL, Catalog
from pipeline.config import Params, TargetConfig, load_params, project_root
from pipeline.errors import PipelineError, run_cli
from pipeline.files import atomic_dir
from pipeline.models import load_model
from pipeline.records import model_examples, read_split
from pipeline.serving.contract import REQUEST_FIELDS, request_values

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one bar per file copied: noise

PACKAGE_DIR = Path(__file__).resolve().parent
SERVING_CODE = PACKAGE_DIR / "serving" / "stance_model.py"
CHAMPION, CANDIDATE = "champion", "candidate"
# Always needed to load the pyfunc; a classifier's own libraries (torch, transformers, ...) are added.
BASE_REQUIREMENTS = ("mlflow", "numpy", "pandas", "pydantic", "omegaconf", "pyyaml", "scikit-learn", "skops")


def registered_model_name(params: Params) -> str:
    return f"stance-{params.subject}"


@dataclass(frozen=True)
class Evaluation:
    """How a model version was scored: champions are compared only on the same evaluation."""

    macro_f1: float | None  # None: not evaluated (no gold labels)
    protocol: str
    data: str  # hash of the evaluated split

    def tags(self) -> dict[str, str]:
        score = "none" if self.macro_f1 is None else f"{self.macro_f1:.6f}"
        return {"macro_f1": score, "eval_protocol": self.protocol, "eval_data": self.data}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> Evaluation | None:
        try:
            return cls(float(tags["macro_f1"]), tags["eval_protocol"], tags["eval_data"])
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class AliasDecision:
    alias: str
    reason: str


def choose_alias(new: Evaluation, champion_version: str | None, champion: Evaluation | None) -> AliasDecision:
    """`champion` for the first version or one that beats the champion on the same evaluation;
    an unevaluated version (no gold labels) is only ever a candidate."""
    if new.macro_f1 is None:
        return AliasDecision(CANDIDATE, "not evaluated (no gold labels): a candidate, never champion")
    if champion_version is None:
        return AliasDecision(CHAMPION, "no champion yet")
    if champion is None:
        return AliasDecision(CHAMPION, f"champion v{champion_version} has no recorded evaluation")
    if (champion.protocol, champion.data) != (new.protocol, new.data):
        return AliasDecision(CANDIDATE, f"not comparable with champion v{champion_version}: it was evaluated on "
                                        f"other data ({champion.protocol}, {champion.data[:12]}); compare them on "
                                        f"one evaluation and move the alias by hand")
    if new.macro_f1 > champion.macro_f1:
        return AliasDecision(CHAMPION, f"macro-F1 {new.macro_f1:.4f} beats champion v{champion_version}'s "
                                       f"{champion.macro_f1:.4f}")
    return AliasDecision(CANDIDATE, f"macro-F1 {new.macro_f1:.4f} does not beat champion v{champion_version}'s "
                                    f"{champion.macro_f1:.4f}")


def input_example(rows: list[dict[str, Any]], target_name: str, size: int = 2) -> list[dict[str, str]]:
    """A few evaluated quotes in the request shape, for the model's signature and docs."""
    example = []
    for row in rows[:size]:
        request = {**request_values(row), "target": row.get("target") or target_name}
        example.append({field: request[field] for field in REQUEST_FIELDS if request.get(field)})
    return example


def describe_model(metrics: dict[str, Any], rows: dict[str, list[dict[str, Any]]], split_data: str,
                   target: TargetConfig) -> tuple[Evaluation, list[dict[str, str]]]:
    """What the export says about the candidate: its evaluation (metrics.json's score and protocol on the
    split whose fingerprint is `split_data`), and an input example from the split's rows (test first)."""
    score = None if metrics.get("macro_f1") is None else float(metrics["macro_f1"])
    evaluation = Evaluation(score, str(metrics["protocol"]), split_data)
    return evaluation, input_example(model_examples(rows["test"] or rows["train"], target), target.name)


def requirements(libraries: tuple[str, ...]) -> list[str]:
    """Pinned requirements of the pyfunc: the base set plus the classifier's libraries."""
    pinned = []
    for name in dict.fromkeys([*BASE_REQUIREMENTS, *libraries]):
        try:
            pinned.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return pinned


def copy_package(into: Path) -> Path:
    """This package's code without caches, as the model's code_paths entry."""
    return Path(shutil.copytree(PACKAGE_DIR, into / "pipeline",
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc")))


def model_files(params: Params, candidate: Path, staging: Path) -> dict[str, Any]:
    """The arguments shared by save_model and log_model: code, artifacts, example, requirements."""
    from pipeline.serving.stance_model import CLASSIFIER_ARTIFACT, TARGET_ARTIFACT

    target_file = staging / "target.json"
    target_file.write_text(json.dumps({"target": params.target.model_dump(mode="json"),
                                       "labeling": params.labeling.model_dump(mode="json")},
                                      indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    classifier = load_model(candidate)
    return {"python_model": str(SERVING_CODE),
            "artifacts": {CLASSIFIER_ARTIFACT: str(candidate), TARGET_ARTIFACT: str(target_file)},
            "code_paths": [str(copy_package(staging))],
            "pip_requirements": requirements(classifier.libraries),
            "metadata": {"target": params.target.id, "model_kind": classifier.kind,
                         "inputs": list(classifier.inputs)}}


def make_reproducible(folder: Path) -> None:
    """Take out of MLmodel what differs between two identical exports, so DVC sees the same model.

    The creation time goes, the random uuid becomes a hash of the folder's other files, and
    the absolute source paths (a temp folder, this checkout) become the paths inside the
    folder; MLflow loads the model from those paths only.
    """
    import hashlib

    import yaml

    mlmodel = folder / "MLmodel"
    spec = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    spec.pop("utc_time_created", None)
    pyfunc = spec["flavors"]["python_function"]
    for artifact in pyfunc.get("artifacts", {}).values():
        artifact["uri"] = artifact["path"]
    if pyfunc.get("model_code_path"):
        pyfunc["model_code_path"] = Path(pyfunc["model_code_path"]).name
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p != mlmodel):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    spec["model_uuid"] = digest.hexdigest()[:32]
    mlmodel.write_text(yaml.safe_dump(spec, default_flow_style=False, sort_keys=True), encoding="utf-8")


@contextlib.contextmanager
def exported_model(files: dict[str, Any], example: list[dict[str, str]], out: Path) -> Iterator[Path]:
    """Build the pyfunc folder; it replaces `out` only when the block (registration) completes, so a
    failed, interrupted or killed export leaves the previous model in place, whole."""
    import mlflow

    with atomic_dir(out) as folder:
        mlflow.pyfunc.save_model(path=str(folder), input_example=example, **files)
        make_reproducible(folder)
        yield folder


def save_exported(files: dict[str, Any], example: list[dict[str, str]], out: Path) -> None:
    """Write the pyfunc folder `out` atomically, without registering it."""
    with exported_model(files, example, out):
        pass


# A version's `pipeline_status` tag: `incomplete` from its creation until its tags are all set; a
# kill in between leaves it so tagged, and only a complete version is ever given an alias.
STATUS_TAG, INCOMPLETE, COMPLETE = "pipeline_status", "incomplete", "complete"


def register(params: Params, root: Path, files: dict[str, Any], example: list[dict[str, str]],
             evaluation: Evaluation, candidate: Path) -> dict[str, Any]:
    """Log the model into the pipeline's run, register it, tag its evaluation and set its alias."""
    import mlflow

    name = registered_model_name(params)
    with tracking.pipeline_run(params, root, candidate):
        info = mlflow.pyfunc.log_model(name="stance_model", input_example=example, **files)
        client = mlflow.MlflowClient()
        try:
            current = client.get_model_version_by_alias(name, CHAMPION)
            champion_version, champion = str(current.version), Evaluation.from_tags(current.tags)
        except mlflow.exceptions.MlflowException:
            champion_version, champion = None, None
        decision = choose_alias(evaluation, champion_version, champion)
        new_version = str(mlflow.register_model(info.model_uri, name, tags={
            **evaluation.tags(), "alias_reason": decision.reason, STATUS_TAG: INCOMPLETE}).version)
        client.set_model_version_tag(name, new_version, STATUS_TAG, COMPLETE)
        client.set_registered_model_alias(name, decision.alias, new_version)
        mlflow.set_tags({"registered_model": name, "registered_version": new_version, "alias": decision.alias})
    return {"registered_model": name, "version": new_version, "alias": decision.alias, "reason": decision.reason,
            "champion_before": champion_version, "model_uri": f"models:/{name}@{decision.alias}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.export", description=__doc__.splitlines()[0])
    parser.add_argument("--no-register", action="store_true", help="write models/stance only, skip the registry")
    args = parser.parse_args(argv)
    params = load_params()
    root = project_root()
    catalog = Catalog(params.paths, root)
    candidate = catalog.path(CANDIDATE_MODEL)
    if not catalog.path(METRICS).is_file():
        raise PipelineError("no metrics: run the evaluate stage before exporting", path=catalog.path(METRICS))
    metrics = catalog.read(METRICS)
    split_dir = catalog.path(SPLIT)
    rows, _ = read_split(split_dir)
    evaluation, example = describe_model(metrics, rows, tracking.folder_fingerprint(split_dir), params.target)
    with tempfile.TemporaryDirectory(prefix="export-") as staging:
        files = model_files(params, candidate, Path(staging))
        # models/stance changes only once the registry has the new version; export.json follows.
        with exported_model(files, example, catalog.path(STANCE_MODEL)):
            report = {"model": str(catalog.relative(STANCE_MODEL)),
                      "model_kind": files["metadata"]["model_kind"], **asdict(evaluation)}
            if not args.no_register:
                report.update(register(params, root, files, example, evaluation, candidate))
    catalog.write(EXPORT_REPORT, report)
    where = (f"registered {report['registered_model']} v{report['version']} as {report['alias']} "
             f"({report['reason']})" if "version" in report else "not registered")
    score = "not evaluated" if evaluation.macro_f1 is None else f"macro-F1 {evaluation.macro_f1:.3f}"
    print(f"export: {report['model']} ({report['model_kind']}, {score}); {where}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
