"""One speaker's stance from their quotes: the rule shared by `predict --by-speaker` and the bench.

Each quote's label weighs its confidence (the label model's, or the classifier's score for the
label it chose). Between the sides, the heavier of support and oppose wins (a tie is no side).
A side then beats neutral unless neutral outweighs it more than 1 / `neutral_weight` times
(default 0.5: twice). Neutral is discounted because it is weaker evidence about a person than a
side: people who take a side also report facts, dates and procedure, while a quote that takes a
side is rarely said by someone without it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.records import LABELS, Label

NEUTRAL_WEIGHT = 0.5


@dataclass(frozen=True)
class SpeakerStance:
    """A speaker's aggregated stance, with the confidence mass behind each label."""

    label: Label
    weights: dict[str, float]
    quotes: int


def speaker_stance(labelled: Iterable[tuple[Label, float]], neutral_weight: float = NEUTRAL_WEIGHT) -> SpeakerStance:
    """Aggregate (label, confidence) pairs of one speaker's quotes into one stance."""
    pairs = list(labelled)
    weights = {label: round(sum(weight for quote_label, weight in pairs if quote_label == label), 4)
               for label in LABELS}
    side: Label | None = None
    if weights["support"] != weights["oppose"]:
        side = "support" if weights["support"] > weights["oppose"] else "oppose"
    label: Label = side if side and weights[side] >= neutral_weight * weights["neutral"] else "neutral"
    return SpeakerStance(label, weights, len(pairs))
