"""The model registry: the one place that maps a model kind's name to its class.

Train calls `build_model(cfg.model, seed).fit(...)` then `.save(folder)`; evaluate and
export call `load_model(folder).predict_proba(...)`. Nothing else branches on the kind.
Families that need torch import it inside their methods, so importing this is fast.
"""
from __future__ import annotations

from pathlib import Path

from pipeline.config import ModelConfig
from pipeline.errors import PipelineError
from pipeline.models.base import LABELS, MANIFEST_NAME, StanceModel, build_input, read_manifest
from pipeline.models.embedding import EmbeddingLogregModel
from pipeline.models.finetune import FinetuneModel
from pipeline.models.majority import MajorityModel
from pipeline.models.setfit_model import SetfitModel
from pipeline.models.tfidf import TfidfLogregModel, TfidfSvmModel
from pipeline.models.weak_only import WeakOnlyModel

MODEL_KINDS: dict[str, type[StanceModel]] = {
    model.kind: model
    for model in (MajorityModel, WeakOnlyModel, TfidfLogregModel, TfidfSvmModel,
                  EmbeddingLogregModel, SetfitModel, FinetuneModel)
}

__all__ = ["LABELS", "MODEL_KINDS", "StanceModel", "build_input", "build_model", "load_model", "model_kind"]


def model_kind(name: str) -> type[StanceModel]:
    """The class registered under `name`; an unknown name lists the known ones."""
    try:
        return MODEL_KINDS[name]
    except KeyError:
        raise PipelineError(f"unknown model kind {name!r}: choose one of {', '.join(MODEL_KINDS)}",
                            field="model.name") from None


def build_model(config: ModelConfig, seed: int) -> StanceModel:
    """An unfitted model of the configured kind, its params validated."""
    return model_kind(config.name).from_config(config.params, config.inputs, seed, config.ignore_votes_of)


def load_model(directory: str | Path) -> StanceModel:
    """Load a saved model folder of any kind, as named in its `stance_model.json`."""
    kind = read_manifest(directory)["kind"]
    if kind not in MODEL_KINDS:
        raise PipelineError(f"unknown model kind {kind!r}: this code knows {', '.join(MODEL_KINDS)}",
                            path=Path(directory) / MANIFEST_NAME, field="kind")
    return MODEL_KINDS[kind].load(directory)
