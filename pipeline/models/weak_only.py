"""The label stage's label model as a classifier: predicts from the labeling functions' votes alone.

It is the baseline that tells whether a trained model learned more than the weak labels
it was trained on. Each example carries `votes` (labeling function -> label or None for
abstain), as written by the label stage. Fitting and predicting are the label stage's own
(pipeline/labeling/label_model.py): Snorkel's LabelModel learns how far to trust each function
from the votes alone (never the labels), and the same rules pick the label. Only its learned
tables are saved (safetensors + JSON), not the Snorkel object.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from pipeline.config import Label, LabelingConfig
from pipeline.errors import PipelineError
from pipeline.labeling.label_model import ABSTAIN, LabelModelTables, decide_labels, fit_label_model
from pipeline.models.base import ModelParams, StanceModel
from pipeline.records import LABEL2ID

TABLES_FILE = "label_model.safetensors"
FUNCTIONS_FILE = "labeling_functions.json"
MIN_FUNCTIONS = 3  # Snorkel's LabelModel needs at least three functions to identify accuracies
LABEL_STAGE = LabelingConfig.model_fields


class WeakOnlyParams(ModelParams):
    """The label stage's label model settings (`labeling.label_model_*`, `labeling.default_label`),
    with its defaults: evaluate's baseline takes them from the run's `labeling`."""

    epochs: int = Field(LABEL_STAGE["label_model_epochs"].default, ge=1)
    lr: float = Field(LABEL_STAGE["label_model_lr"].default, gt=0)
    default_label: Label = LABEL_STAGE["default_label"].default


def vote_matrix(examples: list[Mapping[str, Any]], functions: list[str]) -> np.ndarray:
    """Votes as Snorkel's label matrix: one column per function, label id or -1 for abstain.

    A function an example has no vote from counts as an abstain; votes from functions the
    model was not fitted with are ignored (it has learned nothing about them).
    """
    matrix = np.full((len(examples), len(functions)), ABSTAIN, dtype=np.int64)
    for row, example in enumerate(examples):
        votes = example.get("votes")
        if not isinstance(votes, Mapping):
            raise PipelineError(f"example {row} has no `votes`: the weak_only model predicts from "
                                f"labeling-function votes", field="votes")
        for column, function in enumerate(functions):
            label = votes.get(function)
            if label is not None:
                if label not in LABEL2ID:
                    raise PipelineError(f"example {row}: unknown label {label!r} from {function}",
                                        field=f"votes.{function}")
                matrix[row, column] = LABEL2ID[label]
    return matrix


class WeakOnlyModel(StanceModel):
    """The label stage's label model fitted on the training examples' votes."""

    kind = "weak_only"
    Params = WeakOnlyParams
    libraries = ("numpy", "snorkel", "torch", "safetensors")

    @property
    def needs_votes(self) -> bool:
        """Always: the votes are all this model reads."""
        return True

    def reads_votes_of(self, function: str) -> bool:
        """Once fitted, exactly the functions it was fitted on."""
        return function in self.functions if self.fitted else super().reads_votes_of(function)

    def _fit(self, examples: list[Mapping[str, Any]], labels: np.ndarray, weights: np.ndarray | None) -> None:
        functions = sorted({name for example in examples for name in (example.get("votes") or {})
                            if name not in self.ignored_votes})
        if len(functions) < MIN_FUNCTIONS:
            raise PipelineError(f"the weak_only model needs votes from at least {MIN_FUNCTIONS} labeling "
                                f"functions; the training examples have {len(functions)}", field="votes")
        tables = fit_label_model(vote_matrix(examples, functions), self.params.epochs, self.params.lr, self.seed)
        if tables is None:
            raise PipelineError("no training example has a vote from any labeling function", field="votes")
        self.functions, self.tables = functions, tables

    def _predict_proba(self, examples: list[Mapping[str, Any]]) -> np.ndarray:
        matrix = vote_matrix(examples, self.functions)
        return decide_labels(matrix, self.tables, self.params.default_label).probabilities

    def _save_artifacts(self, directory: Path) -> None:
        from safetensors.numpy import save_file

        save_file({"conditional": np.ascontiguousarray(self.tables.conditional), "prior": self.tables.prior},
                  str(directory / TABLES_FILE))
        (directory / FUNCTIONS_FILE).write_text(json.dumps(self.functions, indent=2) + "\n", encoding="utf-8")

    def _load_artifacts(self, directory: Path) -> None:
        from safetensors.numpy import load_file

        for path in (directory / TABLES_FILE, directory / FUNCTIONS_FILE):
            if not path.is_file():
                raise PipelineError("model file missing: the saved model folder is incomplete", path=path)
        tables = load_file(str(directory / TABLES_FILE))
        self.functions = json.loads((directory / FUNCTIONS_FILE).read_text(encoding="utf-8"))
        self.tables = LabelModelTables(tables["conditional"], tables["prior"])
