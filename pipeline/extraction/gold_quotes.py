"""Quote-level gold (`gold.json` of ../shared/corpus_dev/) and the attribution scores against it.

The format and the matching rule are the corpus README's "Suggested use": a predicted quote finds
a gold fragment when its span contains the fragment (the k-th gold entry with a text is its k-th
occurrence in the body); a predicted speaker matches a person when its lower-cased string holds
one of the person's `match` fragments, an organisation when it holds the organisation's name.
Four figures per set:

- quote recall: gold fragments inside some extracted quote (the innermost one is scored);
- attribution accuracy: found quotes of a named person or an organisation whose speaker matches
  (an organisation is also matched by a shortening of its name: 'the commission', see below);
- wrong-named-person rate: found quotes given to a named person who did not say them (a person
  of the gold list, or a name the extractor itself takes for a person);
- speaker recall: gold speakers that are the speaker of at least one extracted quote.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import PipelineError

UNKNOWN = "unknown"
SHORTENING_WORDS = frozenset({"the", "a", "an", "its", "their", "several", "some", "many", "all"})
TRAILING_MARKS = " .,;:!?\"'\u201c\u201d\u2018\u2019"


def fold(text: str | None) -> str:
    """Lower case without accents, hyphens, curly apostrophes or runs of white space, for matching names."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).replace("\u2019", "'")
    return re.sub(r"[\s\-\u2010]+", " ", text).strip().lower()


def fold_spaces(text: str) -> str:
    """Ingest turns runs of spaces, tabs and no-break spaces into one space; gold text is folded the same way."""
    return re.sub(r"[ \t\u00a0]+", " ", text)


@dataclass(frozen=True)
class GoldSpeaker:
    name: str
    match: tuple[str, ...]
    stance: str
    borderline: bool

    def matches(self, predicted: str | None) -> bool:
        folded = fold(predicted)
        return bool(folded) and any(fold(fragment) in folded for fragment in self.match)


@dataclass(frozen=True)
class GoldQuote:
    text: str
    speaker: str


@dataclass(frozen=True)
class GoldArticle:
    key: str
    file: Path
    speakers: tuple[GoldSpeaker, ...]
    quotes: tuple[GoldQuote, ...]

    def person(self, name: str) -> GoldSpeaker | None:
        return next((speaker for speaker in self.speakers if speaker.name == name), None)

    def speaker_matches(self, gold_name: str, predicted: str | None) -> bool:
        """A person by their match fragments; an organisation by its name inside the predicted one,
        or a predicted name that is a shortening of it ('the commission', 'The Government', 'Bishops
        in Chile' for 'Chilean bishops': the words before any preposition, all in the name)."""
        person = self.person(gold_name)
        if person is not None:
            return person.matches(predicted)
        gold, found = fold(gold_name), fold(predicted)
        head_phrase = re.split(r"\b(?:of|in|for|from|at|on)\b", found)[0]
        words = [word for word in head_phrase.split() if word not in SHORTENING_WORDS]
        return bool(found) and (gold in found or bool(words) and set(words) <= set(gold.split()))


def read_gold(folder: Path) -> list[GoldArticle]:
    """The articles of one development set, in key order; a malformed gold.json is a one-line error."""
    path = folder / "gold.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = []
        for key, item in sorted(data["articles"].items()):
            speakers = tuple(GoldSpeaker(s["speaker"], tuple(s["match"]), s["stance"], bool(s.get("borderline")))
                             for s in item["speakers"])
            quotes = tuple(GoldQuote(q["text"], q["speaker"]) for q in item["quotes"])
            articles.append(GoldArticle(key, folder / item["file"], speakers, quotes))
    except (OSError, json.JSONDecodeError) as error:
        raise PipelineError(f"cannot read gold quotes: {error}", path=path) from None
    except (KeyError, TypeError) as error:
        raise PipelineError(f"gold quotes lack a field: {error}", path=path) from None
    return articles


def locate(body: str, quotes: tuple[GoldQuote, ...]) -> list[tuple[int, int] | None]:
    """Each gold fragment's (start, end) in the body, the k-th entry of a text at its k-th occurrence;
    the end leaves out closing punctuation, which the extractor trims. None when it is not in the body."""
    seen: dict[str, int] = {}
    located: list[tuple[int, int] | None] = []
    for quote in quotes:
        text = fold_spaces(quote.text).strip()
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        start = -1
        for _ in range(occurrence + 1):
            start = body.find(text, start + 1)
            if start < 0:
                break
        if start < 0:
            located.append(None)
            continue
        end = start + len(text.rstrip(TRAILING_MARKS)) or start + len(text)
        located.append((start, end))
    return located


@dataclass(frozen=True)
class Predicted:
    """What the scorer needs of an extracted quote."""

    start: int
    end: int
    speaker: str | None
    text: str = ""


@dataclass
class Outcome:
    """One gold quote against the extraction: found or not, and with whom."""

    article: str
    gold: GoldQuote
    found: Predicted | None
    right: bool | None  # None: no gold speaker to compare with ('unknown') or not found
    wrong_person: bool


@dataclass
class SetScore:
    outcomes: list[Outcome] = field(default_factory=list)
    speakers: int = 0
    speakers_found: int = 0
    missed_speakers: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict:
        found = [outcome for outcome in self.outcomes if outcome.found is not None]
        compared = [outcome for outcome in found if outcome.right is not None]
        named = [outcome for outcome in compared if outcome.gold.speaker != UNKNOWN]

        def share(part: int, whole: int) -> float:
            return round(part / whole, 3) if whole else 0.0

        return {"gold_quotes": len(self.outcomes), "found": len(found),
                "quote_recall": share(len(found), len(self.outcomes)),
                "attributed": len(named), "attributed_right": sum(outcome.right for outcome in named),
                "attribution_accuracy": share(sum(outcome.right for outcome in named), len(named)),
                "wrong_person": sum(outcome.wrong_person for outcome in found),
                "wrong_person_rate": share(sum(outcome.wrong_person for outcome in found), len(found)),
                "speakers": self.speakers, "speakers_found": self.speakers_found,
                "speaker_recall": share(self.speakers_found, self.speakers)}


def innermost(predicted: list[Predicted], start: int, end: int) -> Predicted | None:
    """The shortest extracted quote containing [start, end): nested speech is scored at its inner report."""
    holding = [quote for quote in predicted if quote.start <= start and end <= quote.end]
    return min(holding, key=lambda quote: quote.end - quote.start, default=None)


def score_article(article: GoldArticle, body: str, predicted: list[Predicted],
                  person_names: set[str] = frozenset()) -> SetScore:
    """Every gold quote and speaker of one article against its extracted quotes. `person_names`
    are the names the extractor took for people (folded), so a quote given to a person outside
    the gold list is still a wrong person."""
    score = SetScore()
    for gold, span in zip(article.quotes, locate(body, article.quotes)):
        found = innermost(predicted, *span) if span is not None else None
        if found is None:
            score.outcomes.append(Outcome(article.key, gold, None, None, False))
            continue
        right = None if gold.speaker == UNKNOWN else article.speaker_matches(gold.speaker, found.speaker)
        other_people = [person for person in article.speakers if person.name != gold.speaker]
        wrong_person = not right and (any(person.matches(found.speaker) for person in other_people)
                                      or fold(found.speaker) in person_names)
        score.outcomes.append(Outcome(article.key, gold, found, right, wrong_person))
    for person in article.speakers:
        score.speakers += 1
        if any(person.matches(quote.speaker) for quote in predicted):
            score.speakers_found += 1
        else:
            score.missed_speakers.append((article.key, person.name))
    return score


def merge(scores: list[SetScore]) -> SetScore:
    total = SetScore()
    for score in scores:
        total.outcomes += score.outcomes
        total.speakers += score.speakers
        total.speakers_found += score.speakers_found
        total.missed_speakers += score.missed_speakers
    return total
