"""SetFit: contrastive fine-tuning of MiniLM on pairs of quotes, then a logistic-regression head.

The right tool when labelled quotes are few: every pair of examples is a training signal.
Only the encoder training differs from `embedding_logreg`; the head, prediction and the
saved folder (encoder in safetensors, head in skops; SetFit's own save would pickle the
head with joblib) are shared with it. Example weights reach the head; the contrastive pairs
are unweighted (SetFit has no per-pair weights).
"""
from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
from pydantic import Field

from pipeline.models.base import CpuBound, show_progress
from pipeline.models.embedding import EmbeddingHeadParams, EmbeddingLogregModel


class SetfitParams(EmbeddingHeadParams):
    """Encoder, head, and the contrastive phase: pairs per example, epochs, batch, learning rate."""

    normalize: bool = False  # SetFit's default: the head sees raw embeddings
    num_iterations: int = Field(5, ge=1)
    num_epochs: int = Field(1, ge=1)
    batch_size: int = Field(16, ge=1)
    body_learning_rate: float = Field(2e-5, gt=0)
    max_steps: int = Field(-1, ge=-1)


class SetfitModel(EmbeddingLogregModel):
    """MiniLM fine-tuned contrastively on the training quotes, then a logistic head on its embeddings."""

    kind = "setfit"
    Params = SetfitParams
    libraries = EmbeddingLogregModel.libraries + ("setfit",)
    training_cost = "fine_tuning"
    cpu_bound = CpuBound("max_steps", 100, 2, "at most {} contrastive steps of 16 pairs")
    # Per target it went from 67.85 to 75.36 on SemEval dev with ngram_features=True, so it stays per target.
    tuning_grid = {"ngram_features": [False, True]}

    def fitted_encoder(self, texts: list[str], labels: np.ndarray) -> Any:
        """The pretrained encoder after SetFit's contrastive phase on pairs of `texts`."""
        from setfit import SetFitModel, Trainer, TrainingArguments

        encoder = self.load_encoder(self.params.model_path)
        with tempfile.TemporaryDirectory(prefix="setfit-") as scratch:
            args = TrainingArguments(
                output_dir=scratch, batch_size=self.params.batch_size, num_epochs=self.params.num_epochs,
                num_iterations=self.params.num_iterations, body_learning_rate=self.params.body_learning_rate,
                max_steps=self.params.max_steps, seed=self.seed, report_to="none", save_strategy="no",
                show_progress_bar=show_progress(),
            )
            trainer = Trainer(model=SetFitModel(model_body=encoder), args=args)
            # SetFit does not pass these on to its sentence-transformers trainer.
            trainer.st_trainer.args.disable_tqdm = not show_progress()
            trainer.st_trainer.args.dataloader_pin_memory = False  # CPU only: pinning just warns
            trainer.train_embeddings(texts, labels.tolist(), args=args)
        return encoder
