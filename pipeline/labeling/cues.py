"""Cue phrases found in text with negation scope: "will not recognize" is a negated "recogni*".

Text and phrases are tokenised the same way (lower case, contractions opened, punctuation kept
as clause boundaries) so a phrase matches whatever quote marks or spacing the article used.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_CONTRACTIONS = ((r"\bwon't\b", "will not"), (r"\bcan't\b", "can not"), (r"\bshan't\b", "shall not"),
                 (r"n't\b", " not"))
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\*?|[.,;:!?()]")
CLAUSE_BREAKS = frozenset({".", ",", ";", ":", "!", "?", "(", ")", "but", "however", "although", "while"})


def tokens(text: str) -> list[str]:
    """Lower-cased words and clause punctuation; "hasn't" -> "has not", quote marks dropped."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    return _TOKEN.findall(text)


@lru_cache(maxsize=8192)
def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """`tokens` of a cue phrase, cached: the same lexicon is matched against every quote."""
    return tuple(tokens(phrase))


@dataclass(frozen=True)
class CueMatch:
    """One occurrence of a cue phrase: where it starts and whether a negator governs it."""

    phrase: str
    start: int
    negated: bool


def word_matches(pattern: str, word: str) -> bool:
    """A word against a pattern: exact, or any ending for a trailing `*` (`recogni*`)."""
    return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern


def find_cues(text_tokens: Sequence[str], phrases: Iterable[str], negators: Iterable[str],
              scope: int) -> list[CueMatch]:
    """Every occurrence of each phrase; negated when a negator stands within `scope` words
    before it in the same clause ("would never formally recognize")."""
    negator_set = set(negators)
    matches = []
    for phrase in phrases:
        pattern = phrase_tokens(phrase)
        if not pattern:
            continue
        starts = [i for i in range(len(text_tokens) - len(pattern) + 1) if word_matches(pattern[0], text_tokens[i])]
        for start in starts:
            window = text_tokens[start:start + len(pattern)]
            if all(word_matches(p, w) for p, w in zip(pattern, window)):
                matches.append(CueMatch(phrase, start, _negated(text_tokens, start, negator_set, scope)))
    return matches


def _negated(text_tokens: Sequence[str], start: int, negators: set[str], scope: int) -> bool:
    for word in reversed(text_tokens[max(0, start - scope):start]):
        if word in CLAUSE_BREAKS:
            return False
        if word in negators:
            return True
    return False


def mentions(text: str, phrases: Iterable[str]) -> bool:
    """Whether any phrase occurs in the text (token-wise, ignoring negation)."""
    return bool(find_cues(tokens(text), phrases, (), 1))
