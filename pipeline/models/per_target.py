"""One model per target: the protocol of sets whose baselines fit each target apart (SemEval-2016 Task 6).

A model that does not read the target learns one target's cues as another's; fitted per target it
sees only that target's rows, as the organisers' SVM did. Any kind of the registry serves as the
per-target model (`kind`, `params`); each example goes to the model of its `target` field. Saved as
one sub-folder per target (each a saved model of its own kind) and `targets.json` naming them.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import PipelineError
from pipeline.models.base import ModelParams, StanceModel, field_value
from pipeline.records import LABELS

TARGETS_FILE = "targets.json"


class PerTargetParams(ModelParams):
    kind: str
    params: dict[str, Any] = {}


def example_target(example: Mapping[str, Any]) -> str:
    target = field_value(example, "target")
    if target is None:
        raise PipelineError("example has no target: a per-target model picks its model by the target", field="target")
    return target


class PerTargetModel(StanceModel):
    """A model of kind `params.kind` per target, each fitted on that target's examples only."""

    kind = "per_target"
    Params = PerTargetParams

    def inner_config(self) -> Any:
        from pipeline.config import ModelConfig

        return ModelConfig(name=self.params.kind, inputs=list(self.inputs), params=self.params.params,
                           ignore_votes_of=list(self.ignored_votes))

    @property
    def libraries(self) -> tuple[str, ...]:  # type: ignore[override]
        """The per-target kind's libraries (export pins them in the model's requirements)."""
        from pipeline.models import model_kind

        return model_kind(self.params.kind).libraries

    def _fit(self, examples: list[Mapping[str, Any]], labels: np.ndarray, weights: np.ndarray | None) -> None:
        from pipeline.models import build_model

        targets = [example_target(example) for example in examples]
        self.models: dict[str, StanceModel] = {}
        for target in sorted(set(targets)):
            rows = [i for i, name in enumerate(targets) if name == target]
            self.models[target] = build_model(self.inner_config(), self.seed).fit(
                [examples[i] for i in rows], [LABELS[labels[i]] for i in rows],
                None if weights is None else weights[rows])

    def _predict_proba(self, examples: list[Mapping[str, Any]]) -> np.ndarray:
        targets = [example_target(example) for example in examples]
        unknown = sorted(set(targets) - set(self.models))
        if unknown:
            raise PipelineError(f"no model for target {unknown[0]!r}: this per-target model knows "
                                f"{', '.join(repr(name) for name in self.models)}", field="target")
        proba = np.zeros((len(examples), len(LABELS)))
        for target, model in self.models.items():
            rows = [i for i, name in enumerate(targets) if name == target]
            if rows:
                proba[rows] = model.predict_proba([examples[i] for i in rows])
        return proba

    def _save_artifacts(self, directory: Path) -> None:
        names = list(self.models)
        for index, target in enumerate(names):
            self.models[target].save(directory / f"target_{index}")
        (directory / TARGETS_FILE).write_text(json.dumps(names, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")

    def _load_artifacts(self, directory: Path) -> None:
        from pipeline.models import load_model

        path = directory / TARGETS_FILE
        try:
            names = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineError("model file missing: the saved model folder is incomplete", path=path) from None
        self.models = {target: load_model(directory / f"target_{index}") for index, target in enumerate(names)}
