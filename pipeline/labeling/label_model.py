"""Votes -> one label per quote: Snorkel's LabelModel weighs the labeling functions by their
estimated accuracies (learned from their agreements, without gold), and LFAnalysis describes them."""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import LabelingConfig
from pipeline.labeling.functions import LabelingFunction, Vote
from pipeline.records import LABEL2ID, LABELS, Label, Quote

ABSTAIN = -1
TIE = 1e-3  # label-model probabilities closer than this cannot tell two labels apart


def vote_matrix(functions: Sequence[LabelingFunction], quotes: Sequence[Quote]) -> np.ndarray:
    """The (quotes x functions) matrix of label ids, ABSTAIN where a function has no opinion."""
    matrix = np.full((len(quotes), len(functions)), ABSTAIN, dtype=np.int64)
    for column, function in enumerate(functions):
        for row, vote in enumerate(function.vote_all(quotes)):
            if vote is not None:
                matrix[row, column] = LABEL2ID[vote]
    return matrix


def votes_of(matrix_row: np.ndarray, functions: Sequence[LabelingFunction]) -> dict[str, Vote]:
    return {function.name: (LABELS[value] if value != ABSTAIN else None)
            for function, value in zip(functions, matrix_row)}


@dataclass(frozen=True)
class WeakLabels:
    """The label model's choice per quote and how sure it is (its probability for that label)."""

    labels: list[Label]
    confidences: list[float]


def combine_votes(matrix: np.ndarray, cfg: LabelingConfig) -> WeakLabels:
    """Fit Snorkel's LabelModel on the votes and take its most probable label per quote.

    The model's probabilities are restricted to the labels some function voted for on that quote
    (and renormalised): on a small corpus its fit can settle on a permutation of the labels and
    call a quote that every voting function called "oppose" neutral or support, which no reading
    of the votes supports; where it had put most of its mass on uncast labels, the vote shares
    stand in for its probabilities. Where the remaining labels tie (as happens on tiny corpora
    where a function only ever votes one way), Snorkel's majority voter decides among the votes
    cast. A quote no function voted on gets `cfg.default_label`. Confidence is that
    (restricted) probability, so unvoted quotes stay at the bottom of the review queue's certainty.
    """
    n_quotes = matrix.shape[0]
    voted = (matrix != ABSTAIN).any(axis=1) if matrix.size else np.zeros(n_quotes, dtype=bool)
    probabilities = np.full((n_quotes, len(LABELS)), 1.0 / len(LABELS))
    majority = np.full(n_quotes, ABSTAIN)
    if voted.any():
        from snorkel.labeling.model import LabelModel, MajorityLabelVoter

        model = LabelModel(cardinality=len(LABELS), verbose=False, device="cpu")
        with warnings.catch_warnings(), _one_thread():
            warnings.simplefilter("ignore", FutureWarning)
            model.fit(matrix[voted], n_epochs=cfg.label_model_epochs, lr=cfg.label_model_lr,
                      seed=cfg.seed, progress_bar=False)
            probabilities[voted] = _restrict_to_votes(model.predict_proba(matrix[voted]), matrix[voted])
        majority[voted] = MajorityLabelVoter(cardinality=len(LABELS)).predict(matrix[voted],
                                                                               tie_break_policy="abstain")
    labels: list[Label] = []
    for row, majority_id in zip(probabilities, majority):
        top_two = np.sort(row)[-2:]
        if top_two[1] - top_two[0] > TIE:
            labels.append(LABELS[int(np.argmax(row))])
        else:
            labels.append(LABELS[majority_id] if majority_id != ABSTAIN else cfg.default_label)
    return WeakLabels(labels, [round(float(np.max(row)), 4) for row in probabilities])


def _restrict_to_votes(probabilities: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Each row's probabilities over only the labels cast in that row, renormalised; where the
    model put less than half its mass on those labels its row says nothing about them, and the
    share of votes each label got stands in."""
    counts = np.stack([(matrix == label_id).sum(axis=1) for label_id in range(len(LABELS))], axis=1)
    kept = np.where(counts > 0, probabilities, 0.0)
    mass = kept.sum(axis=1, keepdims=True)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return np.where(mass >= 0.5, kept / np.maximum(mass, 1e-12), shares)


@contextlib.contextmanager
def _one_thread():
    """Fit on one torch thread: the model is a few k x k matrices, and thread hand-offs made
    each of its 500 steps several times slower on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def function_report(matrix: np.ndarray, functions: Sequence[LabelingFunction],
                    gold: Sequence[Label | None]) -> dict[str, dict]:
    """Per function: coverage, overlaps, conflicts (Snorkel's LFAnalysis), votes per label,
    and its accuracy on the quotes that have a gold label."""
    from snorkel.labeling import LFAnalysis

    names = [function.name for function in functions]
    if matrix.shape[0] == 0:
        return {name: {"coverage": 0.0, "overlaps": 0.0, "conflicts": 0.0, "votes": {}, "gold_votes": 0,
                       "gold_accuracy": None} for name in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        analysis = LFAnalysis(matrix)
        coverage, overlaps, conflicts = (analysis.lf_coverages(), analysis.lf_overlaps(),
                                         analysis.lf_conflicts())
    gold_ids = np.array([LABEL2ID[label] if label else ABSTAIN for label in gold], dtype=np.int64)
    report = {}
    for column, name in enumerate(names):
        votes = matrix[:, column]
        judged = (votes != ABSTAIN) & (gold_ids != ABSTAIN)
        report[name] = {
            "coverage": round(float(coverage[column]), 4),
            "overlaps": round(float(overlaps[column]), 4),
            "conflicts": round(float(conflicts[column]), 4),
            "votes": {label: int((votes == LABEL2ID[label]).sum()) for label in LABELS},
            "gold_votes": int(judged.sum()),
            "gold_accuracy": (round(float((votes[judged] == gold_ids[judged]).mean()), 4)
                              if judged.any() else None),
        }
    return report
