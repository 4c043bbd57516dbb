"""Property-based tests of the extractor: on any text, random or built to trip the rules, it
never raises and every quote's offsets point at its text (`body[start:end]` contains it).

Example counts are modest (a parse is milliseconds, the suite has a time budget); hypothesis
keeps its failing examples in .hypothesis/ and replays them first.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import ExtractConfig
from pipeline.extraction import extract_quotes, load_nlp

NLP = load_nlp(ExtractConfig().spacy_model)
PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                             suppress_health_check=[HealthCheck.too_slow])

QUOTE_MARKS = ['"', "'", "\u201c", "\u201d", "\u2018", "\u2019", "\u00ab", "\u00bb", "\u201e", "`"]
PIECES = [*QUOTE_MARKS, " said ", " says ", " told reporters ", " according to ", ": ", " -- ", " \u2014 ", ", ",
          ". ", "\n", "\n\n", " he ", " she ", " they ", "The minister", "Anatoly Bibilov", "Mr. Smith",
          " that ", " not ", "?", "!", "(", ")", "[", "]", " the referendum ", "\u00a0", "\t", "\r\n",
          "\u200b", "\ufeff", "\u0301", "\U0001F600", "1", "UN", "-", "...", " said: "]


def check(text: str) -> None:
    quotes = extract_quotes(NLP(text), "a", max_quote_chars=1000)
    for quote in quotes:
        assert 0 <= quote.start <= quote.end <= len(text), quote
        assert quote.text in text[quote.start:quote.end], (quote.text, text[quote.start:quote.end])


@PROPERTY_SETTINGS
@given(st.text(max_size=300))
def test_random_text(text):
    check(text)


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(PIECES) | st.text(alphabet="abcXYZ ", max_size=8), max_size=60).map("".join))
def test_adversarial_quote_marks_cues_and_breaks(text):
    check(text)


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["", '"', "\u201c"]), st.text(alphabet="ab .,", max_size=30),
                          st.sampled_from(["", '"', "\u201d"]), st.sampled_from([" she said.", " he said that",
                                                                               ", said Ana Pires. ", "\n\n", ""])),
                max_size=8).map(lambda parts: "Title\n\n" + "".join("".join(part) for part in parts)))
def test_news_shaped_paragraphs_with_unbalanced_marks(text):
    check(text)
