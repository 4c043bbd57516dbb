"""Who stands where: one speaker's stance from their quotes, per article and across a corpus.

The rule (`speaker_stance`), shared by the corpus `predict` stage, `predict --by-speaker` and the
bench: each quote's label weighs its confidence (the label model's, or the classifier's score for
the label it chose; `corpus_stances` says which of them answers for a quote of the corpus).
Between the sides, the heavier of support and oppose wins (a tie is no side).
A side then beats neutral unless neutral outweighs it more than 1 / `neutral_weight` times
(default 0.5: twice). Neutral is discounted because it is weaker evidence about a person than a
side: people who take a side also report facts, dates and procedure, while a quote that takes a
side is rarely said by someone without it.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.config import TargetConfig
from pipeline.records import LABELS, Label, LabelledQuote

NEUTRAL_WEIGHT = 0.5

# reports/speakers.csv, one row per (article, speaker) and one per speaker across the corpus.
SPEAKER_COLUMNS = ("scope", "article_id", "speaker", "speaker_role", "camp", "stance", "quotes",
                   "weight_support", "weight_oppose", "weight_neutral",
                   "evidence", "evidence_article_id", "evidence_label", "evidence_score", "evidence_source")


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


def quote_stance(row: dict[str, Any]) -> tuple[Label, float]:
    """What a prediction row says: its corpus stance when the predict stage gave it one
    (`corpus_stances`), else the classifier's label with its score."""
    if "stance" in row:
        return row["stance"], float(row["stance_score"])
    return row["label"], float(row["scores"][row["label"]])


def corpus_stances(predictions: Sequence[dict[str, Any]],
                   labelled: Mapping[str, LabelledQuote]) -> list[dict[str, Any]]:
    """Each prediction row with the stance that answers for its quote in the corpus reports
    (`stance`, `stance_score`, `stance_source`): the quote's gold label; else its weak label where at
    least one labeling function voted (the label model read that quote itself, while the classifier
    only imitates it); else the classifier's label. The classifier's `label` and `scores` stay."""
    rows = []
    for row in predictions:
        known = labelled.get(row["id"])
        if known is not None and (known.label_source == "gold"
                                  or any(vote is not None for vote in known.votes.values())):
            stance, score, source = known.label, known.confidence, known.label_source
        else:
            stance, score, source = row["label"], row["scores"][row["label"]], "model"
        rows.append({**row, "stance": stance, "stance_score": round(float(score), 4), "stance_source": source})
    return rows


def speaker_key(name: str) -> str:
    """The same person however the articles space or capitalise the name."""
    return " ".join(name.split()).casefold()


def camp_of(target: TargetConfig | None, speaker: str, roles: Sequence[str]) -> str | None:
    """The target camp the speaker's name or roles name, when exactly one does."""
    if target is None or not target.affiliations:
        return None
    from pipeline.labeling.functions import camps_of

    names = {camp.name for camp in camps_of(target, speaker, *roles)}
    return names.pop() if len(names) == 1 else None


def speaker_row(scope: str, article_id: str | None, quotes: Sequence[dict[str, Any]],
                target: TargetConfig | None) -> dict[str, Any]:
    """One speaker's row: stance, weights and the most confident quote that shows it."""
    said = [quote_stance(q) for q in quotes]  # (label, weight) of each quote, in order
    stance = speaker_stance(said)
    names = Counter(q["speaker"] for q in quotes)
    roles = [role for role, _ in Counter(q["speaker_role"] for q in quotes if q.get("speaker_role")).most_common()]
    showing = [(q, pair) for q, pair in zip(quotes, said) if pair[0] == stance.label] or list(zip(quotes, said))
    # Ties (gold labels all weigh 1) go to the quote the classifier is surest of for that label.
    evidence, (evidence_label, evidence_score) = max(
        showing, key=lambda item: (item[1][1], item[0]["scores"].get(item[1][0], 0.0)))
    speaker = names.most_common(1)[0][0]
    return {"scope": scope, "article_id": article_id, "speaker": speaker, "speaker_role": roles[0] if roles else None,
            "camp": camp_of(target, speaker, roles), "stance": stance.label, "quotes": stance.quotes,
            **{f"weight_{label}": stance.weights[label] for label in LABELS},
            "evidence": evidence["text"], "evidence_article_id": evidence["article_id"],
            "evidence_label": evidence_label, "evidence_score": round(evidence_score, 4),
            "evidence_source": evidence.get("stance_source", "model")}


def speaker_rows(predictions: Sequence[dict[str, Any]], target: TargetConfig | None = None) -> list[dict[str, Any]]:
    """One row per speaker across the corpus (scope `corpus`, most quoted first), then one per
    (article, speaker) in order of first appearance (scope `article`).

    Quotes without a resolved speaker are left out: they stay in predictions.jsonl.
    """
    per_article: dict[tuple[str | None, str], list[dict[str, Any]]] = defaultdict(list)
    per_speaker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in predictions:
        if row.get("speaker"):
            per_article[(row.get("article_id"), speaker_key(row["speaker"]))].append(row)
            per_speaker[speaker_key(row["speaker"])].append(row)
    corpus = sorted((speaker_row("corpus", None, quotes, target) for quotes in per_speaker.values()),
                    key=lambda row: (-row["quotes"], row["speaker"]))
    articles = [speaker_row("article", article_id, quotes, target)
                for (article_id, _), quotes in per_article.items()]
    return corpus + articles
