"""Scores of predicted stance labels against gold: one home for the evaluate stage, the evaluation protocol of
labelled sets (pipeline/protocol.py) and the bench."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pipeline.records import LABELS


def classification_metrics(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the labels that occur, per-class P/R/F1, confusion matrix (LABELS order)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    present = [label for label in LABELS if label in set(gold) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=present, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": float(np.mean(np.asarray(gold) == np.asarray(predicted))),
        "macro_f1": float(np.mean(f1)),
        "per_class": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for label, p, r, f, s in zip(present, precision, recall, f1, support)},
        "confusion_matrix": {"labels": list(LABELS),
                             "counts": confusion_matrix(gold, predicted, labels=list(LABELS)).tolist()},
    }


def f_avg(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """SemEval-2016 Task 6's official score: the mean of F1(support) and F1(oppose) (FAVOR and AGAINST),
    over all rows; neutral (NONE) counts only through the two classes' precision and recall. A fraction,
    like macro_f1 (the published figures are x100)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=["support", "oppose"], average="macro", zero_division=0))


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the labels that occur (as classification_metrics reports it)."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, average="macro", zero_division=0))


# A labelled dataset's official metric (corpus.labelled.metric), reported beside macro_f1.
OFFICIAL_METRICS: dict[str, Callable[[Sequence[str], Sequence[str]], float]] = {"macro_f1": macro_f1, "f_avg": f_avg}


def bootstrap_interval(gold: Sequence[str], predicted: Sequence[str],
                       metric: Callable[[Sequence[str], Sequence[str]], float], samples: int,
                       seed: int) -> tuple[float, float]:
    """95% percentile interval of `metric(gold, predicted)` over resampled evaluation sets."""
    rng = np.random.default_rng(seed)
    gold_array, predicted_array = np.asarray(gold), np.asarray(predicted)
    scores = []
    for _ in range(samples):
        index = rng.integers(0, len(gold), len(gold))
        scores.append(metric(gold_array[index], predicted_array[index]))
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def bootstrap_macro_f1(gold: list[str], predicted: list[str], samples: int, seed: int) -> tuple[float, float]:
    """95% percentile interval of macro-F1 over resampled evaluation sets."""
    return bootstrap_interval(gold, predicted, macro_f1, samples, seed)
