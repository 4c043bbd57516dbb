"""The one owner of artifact paths: each file and folder the stages pass on, where it lives, which
stage writes it, and how it is read and written.

A path is a folder of the `paths` node (conf/config.yaml, composed into params.yaml) and a name in
it. dvc.yaml spells the same paths as literals, because DVC reads it without our code;
tests/test_catalog.py keeps the two in agreement. Readers and writers are those of files.py and
records.py. A folder whose format is one stage's own (the split, the models, the confusion plot)
names none here: importing that stage would make every stage depend on its module in dvc.yaml.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.files import read_csv, read_json, read_jsonl, read_text, write_csv, write_json, write_jsonl, write_text
from pipeline.records import Article, LabelledQuote, Quote, read_records, write_records

if TYPE_CHECKING:
    from pipeline.config import PathsConfig


@dataclass(frozen=True)
class Artifact:
    """`name` inside the `folder` (a key of `paths`), written by `stage` (its outs or metrics in
    dvc.yaml; None: kept out of DVC on purpose). `reader(path)` and `writer(path, data, ...)` are
    None where the format is the writing stage's own (that module's docstring names it)."""

    folder: str
    name: str
    stage: str | None
    reader: Callable[..., Any] | None = None
    writer: Callable[..., Any] | None = None

    def write_into(self, folder: Path, *data: Any) -> Any:
        """Write into `folder` standing in for the artifact's own (a stage's staged_outputs)."""
        return self.writer(folder / self.name, *data)


ARTICLES = Artifact("interim", "articles.jsonl", "ingest", partial(read_records, record_type=Article), write_records)
QUOTES = Artifact("interim", "quotes.jsonl", "extract", partial(read_records, record_type=Quote), write_records)
LABELLED = Artifact("processed", "labelled.jsonl", "label", partial(read_records, record_type=LabelledQuote),
                    write_records)
SPLIT = Artifact("processed", "split", "split")  # records.write_split, records.read_split
CANDIDATE_MODEL = Artifact("models", "candidate", "train")  # the model's save, models.load_model
STANCE_MODEL = Artifact("models", "stance", "export")  # export.exported_model, predict.load_stance_model
INGEST_REPORT = Artifact("reports", "ingest.json", "ingest", read_json, write_json)
EXTRACT_REPORT = Artifact("reports", "extract.json", "extract", read_json, write_json)
LABELING_REPORT = Artifact("reports", "labeling.json", "label", read_json, write_json)
METRICS = Artifact("reports", "metrics.json", "evaluate", read_json, write_json)
ERRORS = Artifact("reports", "errors.csv", "evaluate", read_csv, write_csv)
CONFUSION = Artifact("reports", "plots/confusion.csv", "evaluate", read_csv, write_csv)
CONFUSION_PLOT = Artifact("reports", "plots/confusion.png", "evaluate")  # evaluate.confusion_png
EXPORT_REPORT = Artifact("reports", "export.json", "export", read_json, write_json)
PREDICTIONS = Artifact("reports", "predictions.jsonl", "predict", read_jsonl, write_jsonl)
SPEAKERS = Artifact("reports", "speakers.csv", "predict", read_csv, write_csv)
STANCE_REPORT = Artifact("reports", "stance_report.html", "predict", read_text, write_text)
# The MLflow run the stages of one pipeline run share (tracking.pipeline_run): git-ignored, not DVC's.
RUN_HANDOFF = Artifact("reports", "mlflow_run.json", None, read_json, write_json)

ARTIFACTS = (ARTICLES, QUOTES, LABELLED, SPLIT, CANDIDATE_MODEL, STANCE_MODEL, INGEST_REPORT, EXTRACT_REPORT,
             LABELING_REPORT, METRICS, ERRORS, CONFUSION, CONFUSION_PLOT, EXPORT_REPORT, PREDICTIONS, SPEAKERS,
             STANCE_REPORT, RUN_HANDOFF)


def written_by(stage: str) -> tuple[Artifact, ...]:
    return tuple(artifact for artifact in ARTIFACTS if artifact.stage == stage)


class Catalog:
    """The artifacts of one project: the folders of `paths` under `root`. Without a root, paths are
    relative to the project, as dvc.yaml and the stages' messages spell them."""

    def __init__(self, paths: PathsConfig, root: Path = Path()):
        self.paths, self.root = paths, root

    def folder(self, key: str) -> Path:
        return self.root / getattr(self.paths, key)

    def path(self, artifact: Artifact) -> Path:
        return self.folder(artifact.folder) / artifact.name

    def relative(self, artifact: Artifact) -> Path:
        return Path(getattr(self.paths, artifact.folder)) / artifact.name

    def annotations(self, target_id: str) -> Path:
        """The human gold labels of one target (data/annotations/<target id>.csv), edited by hand or
        by `python -m pipeline.annotate import`."""
        return self.folder("annotations") / f"{target_id}.csv"

    def read(self, artifact: Artifact) -> Any:
        return artifact.reader(self.path(artifact))

    def read_if_present(self, artifact: Artifact, default: Any = None) -> Any:
        """The artifact, or `default` where its stage has not written it (a run without gold, a first run)."""
        return self.read(artifact) if self.path(artifact).is_file() else default

    def write(self, artifact: Artifact, *data: Any) -> Any:
        return artifact.writer(self.path(artifact), *data)
