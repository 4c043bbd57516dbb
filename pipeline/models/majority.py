"""The majority baseline: predicts the (weighted) label distribution of the training data.

Every other model is compared with it; with skewed classes it is a hard baseline to beat.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import PipelineError
from pipeline.models.base import ModelParams, StanceModel
from pipeline.records import LABELS

PRIOR_FILE = "label_prior.json"


class MajorityParams(ModelParams):
    """No parameters: the model is the training label distribution."""


class MajorityModel(StanceModel):
    """Returns the training label distribution for every example, so argmax is the majority label."""

    kind = "majority"
    Params = MajorityParams

    def _fit(self, examples: list[Mapping[str, Any]], labels: np.ndarray, weights: np.ndarray | None) -> None:
        counts = np.bincount(labels, weights=weights, minlength=len(LABELS)).astype(np.float64)
        if counts.sum() <= 0:
            raise PipelineError("all example weights are zero", field="weights")
        self.prior = counts / counts.sum()

    def _predict_proba(self, examples: list[Mapping[str, Any]]) -> np.ndarray:
        return np.tile(self.prior, (len(examples), 1))

    def _save_artifacts(self, directory: Path) -> None:
        prior = dict(zip(LABELS, self.prior.tolist()))
        (directory / PRIOR_FILE).write_text(json.dumps(prior, indent=2) + "\n", encoding="utf-8")

    def _load_artifacts(self, directory: Path) -> None:
        path = directory / PRIOR_FILE
        try:
            prior = json.loads(path.read_text(encoding="utf-8"))
            self.prior = np.array([float(prior[label]) for label in LABELS])
        except FileNotFoundError:
            raise PipelineError("model file missing: the saved model folder is incomplete", path=path) from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise PipelineError(f"not a label prior: {error}", path=path) from None
