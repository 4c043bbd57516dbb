"""The one interface every stance model kind implements, and the input builder they share.

A model is fitted on examples (dicts with the quote's fields) and labels from LABELS;
`predict_proba` always returns one column per label in LABELS order, even for labels the
training data lacked, so train, evaluate and export never branch on the model kind.
A saved model is a folder: `stance_model.json` (the manifest) plus the kind's own files,
written with skops (scikit-learn) or safetensors (torch), never plain pickle.
"""
from __future__ import annotations

import json
import math
import os
import platform
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import PipelineError
from pipeline.records import INPUT_NAMES, LABEL2ID, LABELS, MODEL_INPUTS

MANIFEST_NAME = "stance_model.json"
MANIFEST_FORMAT = 1
INPUT_FIELDS: tuple[str, ...] = INPUT_NAMES
# Where each input field is read from an example: the exported model's table names it
# `context`, a quote record names the same sentence `sentence`.
FIELD_KEYS: dict[str, tuple[str, ...]] = {field.name: field.keys for field in MODEL_INPUTS}
# In model string order (see MODEL_INPUTS).
FIELD_TAGS: dict[str, str] = {field.name: field.tag
                              for field in sorted(MODEL_INPUTS, key=lambda field: field.string_order)}


# How long a kind takes to fit, for a protocol that compares kinds on large sets: `light` (seconds), `encoding`
# (a frozen encoder reads every row), `fine_tuning` (the encoder itself is trained: minutes to hours on a CPU).
TrainingCost = Literal["light", "encoding", "fine_tuning"]


@dataclass(frozen=True)
class CpuBound:
    """The param that keeps a kind's training within a CPU budget when kinds are compared on public sets: the
    value it is held at, its smoke-test value, and how a report states it (`statement` formats the value)."""

    param: str
    value: float | int
    quick_value: float | int
    statement: str


class ModelParams(BaseModel):
    """Strict base for a kind's `model.params`: unknown keys and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def votes_value(example: Mapping[str, Any], ignored: Collection[str] = ()) -> str | None:
    """The labeling functions' votes as tokens, "cue_oppose=oppose speaker_prior=oppose".

    Functions in name order, abstains (None) left out; None when every function abstained.
    Votes of the `ignored` functions are left out too.
    Votes may be a mapping or its JSON text (as in a table). An example without `votes` is an
    error: a model that learned from votes would silently predict worse without them.
    """
    votes = example.get("votes")
    if isinstance(votes, str):
        try:
            votes = json.loads(votes)
        except json.JSONDecodeError:
            raise PipelineError(f"`votes` is not JSON: {votes[:60]!r}", field="votes") from None
    if not isinstance(votes, Mapping):
        raise PipelineError("example has no `votes`: the model's inputs include the labeling functions' votes",
                            field="votes")
    tokens = []
    for function in sorted(votes):
        if function in ignored:
            continue
        label = votes[function]
        if label is None:
            continue
        if label not in LABEL2ID:
            raise PipelineError(f"unknown label {label!r} from {function}", field=f"votes.{function}")
        tokens.append(f"{function}={label}")
    return " ".join(tokens) or None


def field_value(example: Mapping[str, Any], field: str, ignored_votes: Collection[str] = ()) -> str | None:
    """The example's value for an input field, or None when absent, null, NaN or blank."""
    if field == "votes":
        return votes_value(example, ignored_votes)
    for key in FIELD_KEYS[field]:
        value = example.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        text = str(value).strip()
        if text:
            return text
    return None


def build_input(example: Mapping[str, Any], inputs: Sequence[str], ignored_votes: Collection[str] = ()) -> str:
    """Join the configured fields of one example into the string a model reads.

    With only `text` configured the quote is returned as is; otherwise each present field
    is tagged ("[target] ... [speaker] ... [role] ... [votes] ... [quote] ... [context] ...") and
    absent optional fields are left out. A missing quote text is an error, and so are missing
    `votes` when they are configured (see `votes_value`), without the votes of `ignored_votes`.
    """
    if field_value(example, "text") is None:
        raise PipelineError("example has no quote text", field="text")
    if tuple(inputs) == ("text",):
        return field_value(example, "text")
    parts = []
    for field in FIELD_TAGS:
        if field in inputs and (value := field_value(example, field, ignored_votes)) is not None:
            parts.append(f"{FIELD_TAGS[field]} {value}")
    return " ".join(parts)


def show_progress() -> bool:
    """Progress bars on long training, except in CI (CI=true) where they only clutter logs."""
    return os.environ.get("CI", "").strip().lower() not in ("true", "1", "yes")


def follow_ci_for_transformers_bars() -> None:
    """Make transformers' own bars (loading weights, writing shards) follow `show_progress`."""
    from transformers.utils import logging

    if show_progress():
        logging.enable_progress_bar()
    else:
        logging.disable_progress_bar()


def label_ids(labels: Sequence[str]) -> np.ndarray:
    """Labels as integer ids in LABELS order; an unknown label is an error naming it."""
    try:
        return np.array([LABEL2ID[label] for label in labels], dtype=np.int64)
    except KeyError as error:
        raise PipelineError(f"unknown label {error.args[0]!r}: expected one of {', '.join(LABELS)}",
                            field="label") from None


def require_two_labels(ids: np.ndarray, kind: str) -> None:
    """Discriminative models need at least two distinct labels to learn anything."""
    if len(np.unique(ids)) < 2:
        raise PipelineError(f"model {kind!r} needs training examples of at least two labels; "
                            f"got only {sorted({LABELS[i] for i in ids})}")


def full_proba(proba: np.ndarray, classes: Sequence[int]) -> np.ndarray:
    """Spread a classifier's columns (one per class it saw) into one column per label in LABELS."""
    out = np.zeros((proba.shape[0], len(LABELS)), dtype=np.float64)
    out[:, np.asarray(classes, dtype=np.int64)] = proba
    return out


def library_versions(names: Sequence[str]) -> dict[str, str]:
    """Versions of the libraries a saved model depends on, for the manifest."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def canonical_skops(data: bytes) -> bytes:
    """A skops archive with the same bytes for the same estimator in any process.

    skops names arrays and memo entries by `id()` (a memory address) and stamps each member
    with the clock, and scikit-learn's vectorizers keep `_stop_words_id` (another address,
    only a cache key: null makes them re-check); DVC would see a new model on every identical
    run. Ids become their order of first appearance in schema.json, members get a fixed date.
    """
    import io
    import re
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    ids: dict[str, str] = {}

    def renumber(match: re.Match) -> str:
        old = match.group(1) or match.group(2)
        new = ids.setdefault(old, str(len(ids)))
        return f'"__id__": {new}' if match.group(1) else f'"{new}.npy"'

    schema = re.sub(r'("_stop_words_id": \{[^{}]*"content": )"\d+"', r'\1"null"',
                    members.pop("schema.json").decode("utf-8"))
    schema = re.sub(r'"__id__": (\d+)|"(\d+)\.npy"', renumber, schema)
    renamed = {f"{ids.get(name[:-4], name[:-4])}.npy" if name.endswith(".npy") else name: content
               for name, content in members.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in [*sorted(renamed.items()), ("schema.json", schema.encode("utf-8"))]:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def save_sklearn(estimator: Any, path: Path) -> None:
    """Write a scikit-learn object with skops (a safe format, unlike pickle), byte-identical on rerun."""
    import skops.io

    Path(path).write_bytes(canonical_skops(skops.io.dumps(estimator)))


def load_sklearn(path: Path, trusted: Sequence[str] = ()) -> Any:
    """Read a skops file, trusting only the types skops trusts plus `trusted`."""
    import zipfile

    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return skops.io.load(path, trusted=list(trusted))
    except FileNotFoundError:
        raise PipelineError("model file missing: the saved model folder is incomplete", path=path) from None
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise PipelineError(f"not a readable skops file ({error}): retrain to rewrite it", path=path) from None
    except UntrustedTypesFoundException as error:
        raise PipelineError(f"refusing to load untrusted types: {error}", path=path) from None


class StanceModel(ABC):
    """fit / predict_proba / predict / save / load, shared by every model kind.

    A subclass sets `kind`, `Params` (its strict params schema) and `libraries`, and
    implements `_fit`, `_predict_proba`, `_save_artifacts` and `_load_artifacts`.
    """

    kind: ClassVar[str]
    Params: ClassVar[type[ModelParams]] = ModelParams
    libraries: ClassVar[tuple[str, ...]] = ("numpy",)
    # What an evaluation protocol over several kinds needs (pipeline/protocol.py, the bench); the stages do not.
    training_cost: ClassVar[TrainingCost] = "light"
    english_only_encoder: ClassVar[bool] = False  # by default reads text through all-MiniLM-L6-v2 (English only)
    # Fitted one per target where a set's protocol asks; False: one model that reads the target serves them all.
    fits_per_target: ClassVar[bool] = True
    cpu_bound: ClassVar[CpuBound | None] = None
    # Searched on a dev split of the training rows (pipeline/protocol.py tune); the first values win ties.
    tuning_grid: ClassVar[dict[str, list[Any]]] = {}

    def __init__(self, params: ModelParams, inputs: Sequence[str] = ("text",), seed: int = 0,
                 ignored_votes: Sequence[str] = ()):
        unknown = [field for field in inputs if field not in INPUT_FIELDS]
        if unknown or "text" not in inputs:
            raise PipelineError(f"inputs must include 'text' and only use {', '.join(INPUT_FIELDS)}; "
                                f"got {list(inputs)}", field="model.inputs")
        self.params = params
        self.inputs = tuple(inputs)
        self.seed = seed
        self.ignored_votes = tuple(sorted(set(ignored_votes)))
        self.fitted = False

    @property
    def needs_votes(self) -> bool:
        """Whether examples must carry `votes` (labeling function -> label or None).

        Export and serving compute them with the target's labeling functions when this is true.
        It follows from the kind and the inputs, which the manifest holds, so a loaded model
        answers it as the one that was trained.
        """
        return "votes" in self.inputs

    def reads_votes_of(self, function: str) -> bool:
        """Whether this model reads the votes of a labeling function (when it reads votes at all).

        Serving computes only the functions it reads, so a model that ignores an expensive one
        (the sentence-embedding `example_similarity`) answers without paying for it.
        """
        return self.needs_votes and function not in self.ignored_votes

    @classmethod
    def from_config(cls, params: Mapping[str, Any], inputs: Sequence[str] = ("text",),
                    seed: int = 0, ignored_votes: Sequence[str] = ()) -> StanceModel:
        """Validate `params` against this kind's schema and build an unfitted model."""
        return cls(cls.validate_params(params), inputs, seed, ignored_votes)

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> ModelParams:
        """The kind's params with defaults filled in; a bad key names `model.params.<key>`."""
        try:
            return cls.Params.model_validate(dict(params))
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise PipelineError(f"{message} for model {cls.kind!r}", field=f"model.params.{key}") from None

    def texts(self, examples: Sequence[Mapping[str, Any]]) -> list[str]:
        """The model strings of a batch of examples, from the configured input fields."""
        return [build_input(example, self.inputs, self.ignored_votes) for example in examples]

    def fit(self, examples: Sequence[Mapping[str, Any]], labels: Sequence[str],
            weights: Sequence[float] | None = None) -> StanceModel:
        """Fit on examples and their labels; `weights` (e.g. label confidence) scale each example."""
        if len(examples) != len(labels):
            raise PipelineError(f"{len(examples)} examples but {len(labels)} labels")
        if not examples:
            raise PipelineError(f"cannot fit model {self.kind!r} on zero examples")
        weight_array = None
        if weights is not None:
            weight_array = np.asarray(weights, dtype=np.float64)
            if weight_array.shape != (len(examples),) or not np.all(np.isfinite(weight_array)) \
                    or np.any(weight_array < 0):
                raise PipelineError("weights must be one finite, non-negative number per example",
                                    field="weights")
        self._fit(list(examples), label_ids(labels), weight_array)
        self.fitted = True
        return self

    def predict_proba(self, examples: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Probabilities, shape (n, 3), columns in LABELS order."""
        if not self.fitted:
            raise PipelineError(f"model {self.kind!r} is not fitted: call fit() or load a saved model")
        if not examples:
            return np.zeros((0, len(LABELS)), dtype=np.float64)
        proba = np.asarray(self._predict_proba(list(examples)), dtype=np.float64)
        if proba.shape != (len(examples), len(LABELS)):
            raise AssertionError(f"{self.kind} returned probabilities of shape {proba.shape}")
        return proba

    def predict(self, examples: Sequence[Mapping[str, Any]]) -> list[str]:
        """The most probable label per example (ties go to the earlier label in LABELS)."""
        return [LABELS[index] for index in self.predict_proba(examples).argmax(axis=1)]

    def manifest(self) -> dict[str, Any]:
        """What `load_model` needs to rebuild this model, plus the versions it was saved with."""
        return {
            "format": MANIFEST_FORMAT,
            "kind": self.kind,
            "params": self.params.model_dump(mode="json"),
            "inputs": list(self.inputs),
            "needs_votes": self.needs_votes,  # for readers of the folder without this code
            "ignored_votes": list(self.ignored_votes),
            "labels": list(LABELS),
            "seed": self.seed,
            "versions": library_versions(self.libraries),
        }

    def save(self, directory: str | Path) -> Path:
        """Write the fitted model into `directory` (created if needed); returns it."""
        if not self.fitted:
            raise PipelineError(f"model {self.kind!r} is not fitted: nothing to save")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._save_artifacts(directory)
        (directory / MANIFEST_NAME).write_text(json.dumps(self.manifest(), indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> StanceModel:
        """Rebuild a model of this kind from a folder written by `save`."""
        directory = Path(directory)
        manifest = read_manifest(directory)
        if manifest["kind"] != cls.kind:
            raise PipelineError(f"holds a {manifest['kind']!r} model, not {cls.kind!r}",
                                path=directory / MANIFEST_NAME, field="kind")
        model = cls(cls.validate_params(manifest["params"]), manifest["inputs"], manifest["seed"],
                    manifest.get("ignored_votes", ()))
        model._load_artifacts(directory)
        model.fitted = True
        return model

    @abstractmethod
    def _fit(self, examples: list[Mapping[str, Any]], labels: np.ndarray, weights: np.ndarray | None) -> None:
        """Fit on validated inputs: `labels` are ids into LABELS."""

    @abstractmethod
    def _predict_proba(self, examples: list[Mapping[str, Any]]) -> np.ndarray:
        """Probabilities for a non-empty batch, shape (n, len(LABELS))."""

    @abstractmethod
    def _save_artifacts(self, directory: Path) -> None:
        """Write the fitted state (skops / safetensors files) into `directory`."""

    @abstractmethod
    def _load_artifacts(self, directory: Path) -> None:
        """Read the fitted state written by `_save_artifacts`."""


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """Read and check a saved model's manifest: known format, required keys, our label order."""
    path = Path(directory) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError("not a saved stance model (no manifest)", path=path) from None
    except json.JSONDecodeError as error:
        raise PipelineError(f"malformed JSON: {error.msg}", path=path, line=error.lineno) from None
    if not isinstance(manifest, dict):
        raise PipelineError("expected a JSON object", path=path)
    for key in ("format", "kind", "params", "inputs", "labels", "seed"):
        if key not in manifest:
            raise PipelineError("missing key", path=path, field=key)
    if manifest["format"] != MANIFEST_FORMAT:
        raise PipelineError(f"unsupported manifest format {manifest['format']!r} (this code reads "
                            f"{MANIFEST_FORMAT})", path=path, field="format")
    if list(manifest["labels"]) != list(LABELS):
        raise PipelineError(f"saved with labels {manifest['labels']}, this code uses {list(LABELS)}",
                            path=path, field="labels")
    return manifest
