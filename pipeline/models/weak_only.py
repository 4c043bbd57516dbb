"""The label model as a classifier: predicts from the labeling functions' votes alone.

It is the baseline that tells whether a trained model learned more than the weak labels
it was trained on. Each example carries `votes` (labeling function -> label or None for
abstain), as written by the label stage; Snorkel's LabelModel learns how far to trust
each function. Only its learned tables are saved (safetensors + JSON), not the Snorkel object.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from pipeline.errors import PipelineError
from pipeline.models.base import ModelParams, StanceModel, show_progress
from pipeline.records import LABEL2ID, LABELS

TABLES_FILE = "label_model.safetensors"
FUNCTIONS_FILE = "labeling_functions.json"
ABSTAIN = -1  # Snorkel's (and the label stage's) code for "no vote"
MIN_FUNCTIONS = 3  # Snorkel's LabelModel needs at least three functions to identify accuracies


class WeakOnlyParams(ModelParams):
    epochs: int = Field(500, ge=1)
    lr: float = Field(0.01, gt=0)
    l2: float = Field(0.0, ge=0)
    class_balance: Literal["train", "uniform"] = "train"


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


def label_model_proba(matrix: np.ndarray, conditional: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """P(label | votes), as Snorkel's LabelModel.predict_proba computes it.

    conditional[f * k + c, y] = P(function f votes c | true label y); abstains carry no evidence.
    """
    classes = len(prior)
    indicators = np.zeros((matrix.shape[0], matrix.shape[1] * classes))
    for column in range(matrix.shape[1]):
        voted = matrix[:, column] != ABSTAIN
        indicators[np.flatnonzero(voted), column * classes + matrix[voted, column]] = 1.0
    scores = np.exp(indicators @ np.log(conditional) + np.log(prior))
    return scores / scores.sum(axis=1, keepdims=True)


class WeakOnlyModel(StanceModel):
    """Snorkel's LabelModel fitted on the training examples' votes."""

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
        from snorkel.labeling.model import LabelModel

        functions = sorted({name for example in examples for name in (example.get("votes") or {})
                            if name not in self.ignored_votes})
        if len(functions) < MIN_FUNCTIONS:
            raise PipelineError(f"the weak_only model needs votes from at least {MIN_FUNCTIONS} labeling "
                                f"functions; the training examples have {len(functions)}", field="votes")
        matrix = vote_matrix(examples, functions)
        # As in the label stage: quotes no function voted on say nothing about the functions.
        voted = (matrix != ABSTAIN).any(axis=1)
        if not voted.any():
            raise PipelineError("no training example has a vote from any labeling function", field="votes")
        balance = None
        if self.params.class_balance == "train":
            # Add-one smoothing: Snorkel rejects a zero prior for a label the data lacks.
            counts = np.bincount(labels, weights=weights, minlength=len(LABELS)) + 1.0
            balance = (counts / counts.sum()).tolist()
        label_model = LabelModel(cardinality=len(LABELS), verbose=False)
        label_model.fit(matrix[voted], class_balance=balance, n_epochs=self.params.epochs, lr=self.params.lr,
                        l2=self.params.l2, seed=self.seed, progress_bar=show_progress())
        self.functions = functions
        self.conditional = label_model.mu.detach().cpu().numpy().astype(np.float64)
        self.prior = np.asarray(label_model.p, dtype=np.float64)

    def _predict_proba(self, examples: list[Mapping[str, Any]]) -> np.ndarray:
        return label_model_proba(vote_matrix(examples, self.functions), self.conditional, self.prior)

    def _save_artifacts(self, directory: Path) -> None:
        from safetensors.numpy import save_file

        save_file({"conditional": np.ascontiguousarray(self.conditional), "prior": self.prior},
                  str(directory / TABLES_FILE))
        (directory / FUNCTIONS_FILE).write_text(json.dumps(self.functions, indent=2) + "\n", encoding="utf-8")

    def _load_artifacts(self, directory: Path) -> None:
        from safetensors.numpy import load_file

        for path in (directory / TABLES_FILE, directory / FUNCTIONS_FILE):
            if not path.is_file():
                raise PipelineError("model file missing: the saved model folder is incomplete", path=path)
        tables = load_file(str(directory / TABLES_FILE))
        self.functions = json.loads((directory / FUNCTIONS_FILE).read_text(encoding="utf-8"))
        self.conditional, self.prior = tables["conditional"], tables["prior"]
