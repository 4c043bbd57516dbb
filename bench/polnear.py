"""PolNeAR (Newell et al., LREC 2018) reading and the research note's matching rule.

Only bench/extract_speed.py and its tests score extraction on PolNeAR, so the reader lives in the
bench, not in the pipeline.

Gold: every relation with a Content span in one annotation file per article (the first
by name). A gold content is found by the not-yet-matched prediction covering the largest
share of its characters, when that share exceeds the threshold (GenderGapTracker's rule),
greedily in gold order. Recall is also reported on contents holding a quotation mark.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QUOTATION_MARKS = frozenset('"\u201c\u201d')


@dataclass(frozen=True)
class GoldAttribution:
    """One annotated relation: content character ranges, and the source text if any."""

    content: tuple[tuple[int, int], ...]
    source: str | None

    @property
    def chars(self) -> set[int]:
        return {index for start, end in self.content for index in range(start, end)}


@dataclass(frozen=True)
class PolnearArticle:
    name: str
    text: str
    gold: tuple[GoldAttribution, ...]


@dataclass(frozen=True)
class Prediction:
    """A predicted content range and the speaker mention as written."""

    start: int
    end: int
    speaker_mention: str | None = None


def attribution_predictions(quotes, text: str) -> list[Prediction]:
    """One prediction per attribution, as PolNeAR annotates them: a piece that continues the
    previous one in its paragraph after the same cue and speaker ('"A," he said. "B."') is
    one relation with a discontinuous content there ('"A," she said. "B," she said.' is two)."""
    predictions: list[Prediction] = []
    previous = None
    for quote in sorted(quotes, key=lambda quote: quote.start):
        at = quote.sentence.find(quote.text)
        cue_before = quote.cue is not None and at > 0 and quote.cue in quote.sentence[:at]
        same_relation = (previous is not None and cue_before
                         and (quote.cue, quote.speaker_mention) == (previous.cue, previous.speaker_mention)
                         and "\n" not in text[predictions[-1].end:quote.start])
        if same_relation:
            predictions[-1] = Prediction(predictions[-1].start, quote.end, quote.speaker_mention)
        else:
            predictions.append(Prediction(quote.start, quote.end, quote.speaker_mention))
        previous = quote
    return predictions


def parse_ranges(field: str) -> tuple[tuple[int, int], ...]:
    """'12 30;41 50' -> ((12, 30), (41, 50))."""
    return tuple((int(start), int(end)) for start, end in (part.split() for part in field.split(";")))


def read_annotations(text: str) -> tuple[GoldAttribution, ...]:
    """Relations with a Content span from one BRAT .ann file, in file order."""
    spans: dict[str, tuple[str, tuple[tuple[int, int], ...], str]] = {}
    relations = []
    for line in text.splitlines():
        fields = line.split("\t")
        if line.startswith("T") and len(fields) >= 3:
            kind, _, ranges = fields[1].partition(" ")
            spans[fields[0]] = (kind, parse_ranges(ranges), fields[2])
        elif line.startswith("E") and len(fields) >= 2:
            roles = dict(part.split(":", 1) for part in fields[1].split() if ":" in part)
            relations.append(roles)
    gold = []
    for roles in relations:
        content = spans.get(roles.get("Content", ""))
        if content is None:
            continue
        source = spans.get(roles.get("Source", ""))
        gold.append(GoldAttribution(content[1], source[2] if source else None))
    return tuple(gold)


def read_split(root: Path, split: str) -> list[PolnearArticle]:
    """The articles of one split (train / dev / test) with the gold of their first annotation file."""
    articles = []
    annotations = sorted((root / split / "attributions").glob("*.ann"))
    for text_path in sorted((root / split / "text").glob("*.txt")):
        own = [path for path in annotations if path.stem.rsplit("_", 1)[0] == text_path.stem]
        if not own:
            continue
        gold = read_annotations(own[0].read_text(encoding="utf-8"))
        articles.append(PolnearArticle(text_path.stem, text_path.read_text(encoding="utf-8"), gold))
    return articles


@dataclass
class Score:
    predictions: int = 0
    gold: int = 0
    matched: int = 0
    gold_quoted: int = 0
    matched_quoted: int = 0
    mention_right: int = 0

    def add(self, other: Score) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self) -> dict[str, float | int]:
        precision = self.matched / self.predictions if self.predictions else 0.0
        recall = self.matched / self.gold if self.gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"predictions": self.predictions, "gold": self.gold, "precision": round(precision, 3),
                "recall": round(recall, 3), "f1": round(f1, 3),
                "recall_quoted": round(self.matched_quoted / self.gold_quoted, 3) if self.gold_quoted else 0.0,
                "speaker_mention": round(self.mention_right / self.matched, 3) if self.matched else 0.0}


def mention_agrees(predicted: str | None, gold: str | None) -> bool:
    if not predicted or not gold:
        return False
    predicted, gold = predicted.lower(), gold.lower()
    return predicted in gold or gold in predicted


def score_article(article: PolnearArticle, predictions: list[Prediction], threshold: float = 0.3) -> Score:
    """Greedy one-to-one matching in gold order (see the module docstring)."""
    score = Score(predictions=len(predictions), gold=len(article.gold))
    free = list(predictions)
    for gold in article.gold:
        chars = gold.chars
        quoted = any(article.text[index] in QUOTATION_MARKS for index in chars)
        score.gold_quoted += quoted
        if not chars or not free:
            continue
        best = max(free, key=lambda p: sum(1 for index in range(p.start, p.end) if index in chars))
        share = sum(1 for index in range(best.start, best.end) if index in chars) / len(chars)
        if share > threshold:
            free.remove(best)
            score.matched += 1
            score.matched_quoted += quoted
            score.mention_right += mention_agrees(best.speaker_mention, gold.source)
    return score
