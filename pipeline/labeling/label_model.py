"""Votes -> one label per quote: Snorkel's LabelModel weighs the labeling functions by their
estimated accuracies (learned from their agreements, without gold), and LFAnalysis describes them."""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import LabelingConfig, TargetConfig
from pipeline.labeling.functions import LabelingFunction, Vote, build_labeling_functions
from pipeline.records import LABEL2ID, LABELS, Label, LabelledQuote, Quote

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
class LabelModelTables:
    """A fitted label model as numbers, all its predictions need (and all the weak_only model saves).

    conditional[f * k + c, y] = P(function f votes c | true label y); prior[y] = P(y).
    """

    conditional: np.ndarray
    prior: np.ndarray


@dataclass(frozen=True)
class WeakLabels:
    """The label model's choice per quote and how sure it is (its probability for that label).

    `probabilities` has one column per label with the chosen label on top: the label model's
    (restricted) probabilities, where a rule chose among tied ones the chosen label raised by TIE.
    """

    labels: list[Label]
    confidences: list[float]
    probabilities: np.ndarray


def fit_label_model(matrix: np.ndarray, epochs: int, lr: float, seed: int) -> LabelModelTables | None:
    """Fit Snorkel's LabelModel on the quotes some function voted on (the others say nothing about
    the functions); None when no function voted at all. Gold labels are never seen."""
    voted = (matrix != ABSTAIN).any(axis=1) if matrix.size else np.zeros(matrix.shape[0], dtype=bool)
    if not voted.any():
        return None
    from snorkel.labeling.model import LabelModel

    model = LabelModel(cardinality=len(LABELS), verbose=False, device="cpu")
    with warnings.catch_warnings(), _one_thread():
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(matrix[voted], n_epochs=epochs, lr=lr, seed=seed, progress_bar=False)
    return LabelModelTables(model.mu.detach().cpu().numpy(), np.asarray(model.p, dtype=np.float64))


def label_model_proba(matrix: np.ndarray, tables: LabelModelTables) -> np.ndarray:
    """P(label | votes), as Snorkel's LabelModel.predict_proba computes it; abstains carry no evidence."""
    classes = len(tables.prior)
    indicators = np.zeros((matrix.shape[0], matrix.shape[1] * classes))
    for column in range(matrix.shape[1]):
        voted = matrix[:, column] != ABSTAIN
        indicators[np.flatnonzero(voted), column * classes + matrix[voted, column]] = 1.0
    scores = np.exp(indicators @ np.log(tables.conditional) + np.log(tables.prior))
    return scores / scores.sum(axis=1, keepdims=True)


def combine_votes(matrix: np.ndarray, cfg: LabelingConfig) -> WeakLabels:
    """Fit the label model on the votes (`fit_label_model`) and label each quote (`decide_labels`)."""
    tables = fit_label_model(matrix, cfg.label_model_epochs, cfg.label_model_lr, cfg.seed)
    return decide_labels(matrix, tables, cfg.default_label)


def decide_labels(matrix: np.ndarray, tables: LabelModelTables | None, default_label: Label) -> WeakLabels:
    """The fitted label model's most probable label per quote, under the rules below.

    The model's probabilities are restricted to the labels some function voted for on that quote
    (and renormalised): on a small corpus its fit can settle on a permutation of the labels and
    call a quote that every voting function called "oppose" neutral or support, which no reading
    of the votes supports; where it had put most of its mass on uncast labels, the vote shares
    stand in for its probabilities. Where the remaining labels tie (as happens on tiny corpora
    where a function only ever votes one way), the majority of the votes cast decides. A quote
    no function voted on gets `default_label`. Confidence is that (restricted) probability, so
    unvoted quotes stay at the bottom of the review queue's certainty.
    """
    n_quotes = matrix.shape[0]
    voted = (matrix != ABSTAIN).any(axis=1) if matrix.size else np.zeros(n_quotes, dtype=bool)
    probabilities = np.full((n_quotes, len(LABELS)), 1.0 / len(LABELS))
    if voted.any() and tables is not None:
        probabilities[voted] = _restrict_to_votes(label_model_proba(matrix[voted], tables), matrix[voted])
    majority = _majority_votes(matrix)
    labels: list[Label] = []
    decided = probabilities.copy()
    for index, (row, majority_id) in enumerate(zip(probabilities, majority)):
        top_two = np.sort(row)[-2:]
        if top_two[1] - top_two[0] > TIE:
            labels.append(LABELS[int(np.argmax(row))])
            continue
        labels.append(LABELS[majority_id] if majority_id != ABSTAIN else default_label)
        decided[index, LABEL2ID[labels[-1]]] = row.max() + TIE
        decided[index] /= decided[index].sum()
    return WeakLabels(labels, [round(float(np.max(row)), 4) for row in probabilities], decided)


def _vote_counts(matrix: np.ndarray) -> np.ndarray:
    """(quotes x labels): how many functions cast each label on each quote."""
    return np.stack([(matrix == label_id).sum(axis=1) for label_id in range(len(LABELS))], axis=1)


def _majority_votes(matrix: np.ndarray) -> np.ndarray:
    """The label id most functions cast per quote, ABSTAIN on a tie or without votes
    (Snorkel's MajorityLabelVoter with tie_break_policy="abstain")."""
    counts = _vote_counts(matrix)
    top = counts.max(axis=1, initial=0)
    unique = (counts == top[:, None]).sum(axis=1) == 1
    return np.where(unique & (top > 0), counts.argmax(axis=1), ABSTAIN)


def _restrict_to_votes(probabilities: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Each row's probabilities over only the labels cast in that row, renormalised; where the
    model put less than half its mass on those labels its row says nothing about them, and the
    share of votes each label got stands in."""
    counts = _vote_counts(matrix)
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


def weak_label(quotes: Sequence[Quote], target: TargetConfig, cfg: LabelingConfig
               ) -> tuple[list[LabelledQuote], np.ndarray, list[LabelingFunction]]:
    """Label every quote from the labeling functions alone (no gold seen); also returns the
    vote matrix and the functions, for the report."""
    functions = build_labeling_functions(target, cfg)
    matrix = vote_matrix(functions, quotes)
    weak = combine_votes(matrix, cfg)
    labelled = [LabelledQuote(**quote.model_dump(), target=target.id, label=label, label_source="weak",
                              confidence=confidence, votes=votes_of(row, functions))
                for quote, label, confidence, row in zip(quotes, weak.labels, weak.confidences, matrix)]
    return labelled, matrix, functions
