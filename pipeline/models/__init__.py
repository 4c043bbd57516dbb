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
from pipeline.models.per_target import PerTargetModel
from pipeline.models.setfit_model import SetfitModel
from pipeline.models.tfidf import TfidfLogregModel, TfidfSvmModel
from pipeline.models.weak_only import WeakOnlyModel

MODEL_KINDS: dict[str, type[StanceModel]] = {
    model.kind: model
    for model in (MajorityModel, WeakOnlyModel, TfidfLogregModel, TfidfSvmModel,
                  EmbeddingLogregModel, SetfitModel, FinetuneModel)
}
# What a saved folder may hold: a configured kind, or one per target of one (a protocol's wrapper, never configured).
SAVED_KINDS: dict[str, type[StanceModel]] = {**MODEL_KINDS, PerTargetModel.kind: PerTargetModel}

__all__ = ["LABELS", "MODEL_KINDS", "StanceModel", "build_input", "build_model", "load_model", "model_kind"]


def model_kind(name: str) -> type[StanceModel]:
    """The class registered under `name`; an unknown name lists the known ones."""
    try:
        return MODEL_KINDS[name]
    except KeyError:
        raise PipelineError(f"unknown model kind {name!r}: choose one of {', '.join(MODEL_KINDS)}",
                            field="model.name") from None


def fits_per_target(config: ModelConfig, per_target: bool) -> bool:
    """Whether a protocol that fits a model per target (`per_target`) wraps this one: not when the
    model reads the target itself (one target-aware model serves every target)."""
    return per_target and "target" not in config.inputs


def build_model(config: ModelConfig, seed: int, per_target: bool = False) -> StanceModel:
    """An unfitted model of the configured kind, its params validated; with `per_target` (the dataset's
    protocol, see fits_per_target) one such model per target."""
    if fits_per_target(config, per_target):
        model_kind(config.name).validate_params(config.params)  # a bad param is named before any fit
        return PerTargetModel.from_config({"kind": config.name, "params": config.params}, config.inputs, seed,
                                          config.ignore_votes_of)
    return model_kind(config.name).from_config(config.params, config.inputs, seed, config.ignore_votes_of)


def load_model(directory: str | Path) -> StanceModel:
    """Load a saved model folder of any kind, as named in its `stance_model.json`."""
    kind = read_manifest(directory)["kind"]
    if kind not in SAVED_KINDS:
        raise PipelineError(f"unknown model kind {kind!r}: this code knows {', '.join(SAVED_KINDS)}",
                            path=Path(directory) / MANIFEST_NAME, field="kind")
    return SAVED_KINDS[kind].load(directory)
