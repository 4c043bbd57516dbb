"""Each named extraction step alone, on sentences small enough to read."""
from __future__ import annotations

import pytest

from pipeline.config import ExtractConfig
from pipeline.extraction import extract_quotes, load_nlp
from pipeline.extraction.quote_marks import find_quote_spans

MODEL = ExtractConfig().spacy_model


def spans(text: str) -> list[str]:
    return [text[span.start:span.end] for span in find_quote_spans(text)]


def test_straight_and_curly_marks_pair_up():
    assert spans('He said "yes" and \u201cno\u201d.') == ["yes", "no"]


def test_open_mark_runs_to_paragraph_end_only():
    assert spans('"Never closed, he said\n\nNext "one" here.') == ["Never closed, he said", "one"]


def test_open_mark_longer_than_the_cap_is_dropped():
    text = '"' + "x" * 50
    assert find_quote_spans(text, max_chars=10) == []


def test_stray_closing_mark_is_ignored():
    assert spans("Nothing\u201d here \u201cthen this\u201d") == ["then this"]


def quotes(body: str) -> list[tuple[str, str, str | None, str | None]]:
    doc = load_nlp(MODEL)(body)
    return [(quote.kind, quote.text, quote.speaker, quote.speaker_role) for quote in extract_quotes(doc, "t")]


def test_surname_resolves_to_the_full_name():
    body = ("Title\n\nMaria Lopez, the finance minister, said on Monday that the plan was sound.\n\n"
            '"We will not change course," Lopez said.')
    assert ("direct", "We will not change course", "Maria Lopez", "the finance minister") in quotes(body)


def test_pronoun_resolves_to_the_last_person_speaking():
    body = ('Title\n\nSenator John Barker criticised the bill on Monday.\n\n'
            '"It is a disaster," he told reporters.')
    assert ("direct", "It is a disaster", "John Barker", "Senator") in quotes(body)


def test_description_resolves_to_the_person_named_next():
    body = ("Title\n\nThe head of the electoral commission said the vote was fair.\n\n"
            '"Every ballot was counted," Anna Kowalski said.')
    found = quotes(body)
    assert ("indirect", "the vote was fair", "Anna Kowalski", "The head of the electoral commission") in found


def test_description_with_nobody_named_after_stays_unresolved():
    body = "Title\n\nThe spokesman said the talks had failed.\n\nThe market fell."
    assert quotes(body) == [("indirect", "the talks had failed", None, "The spokesman")]


def test_groups_and_places_are_speakers_as_written():
    body = "Title\n\nThe Kremlin said the vote was legal, while Russian officials said it was final."
    found = {(text, speaker) for _, text, speaker, _ in quotes(body)}
    assert ("the vote was legal", "The Kremlin") in found
    assert ("it was final", "Russian officials") in found


def test_according_to_and_adding_that():
    body = ("Title\n\nTurnout was above 80 percent, according to the election commission.\n\n"
            'Mayor Tom Reid said the count was over, adding that the result was "clear."')
    found = quotes(body)
    assert ("indirect", "Turnout was above 80 percent", "the election commission", None) in found
    assert ("partial", 'the result was "clear."', "Tom Reid", "Mayor") in found


def test_quote_split_around_its_cue_gives_two_direct_quotes():
    body = 'Title\n\n"The vote is illegal," Ana Pires said. "Nobody will recognise it."'
    assert [(kind, text, speaker) for kind, text, speaker, _ in quotes(body)] == [
        ("direct", "The vote is illegal", "Ana Pires"), ("direct", "Nobody will recognise it", "Ana Pires")]


def test_headline_attribution():
    body = "Rebel Leader Says Region Will Vote On Joining Neighbour\n\nThe rebel leader, Ivan Petrov, spoke."
    assert quotes(body)[0][:3] == ("indirect", "Region Will Vote On Joining Neighbour", "Ivan Petrov")


def test_scare_quotes_without_a_cue_are_not_quotes():
    assert quotes('Title\n\nThe so-called "referendum" took place on Sunday.') == []


def test_load_nlp_is_cached_per_model_name():
    assert load_nlp(MODEL) is load_nlp(MODEL)


def test_unknown_model_is_a_clear_error():
    from pipeline.errors import PipelineError

    with pytest.raises(PipelineError, match="spacy_model"):
        load_nlp("no_such_spacy_model_package")


def test_report_without_a_source_keeps_speaker_null():
    assert quotes("Title\n\nIt was reported that the count had been delayed.") == [
        ("indirect", "the count had been delayed", None, None)]


def test_report_inside_an_open_quotation_belongs_to_the_quoted_speaker():
    body = 'Title\n\nAnna Berg told reporters: "We will win. I think the result is clear.\n\nCounting goes on.'
    assert [(kind, speaker) for kind, _, speaker, _ in quotes(body)] == [("direct", "Anna Berg")]


def test_later_mentions_speak_in_the_role_last_written():
    body = ("Title\n\nMayor Tom Reid opened the bridge.\n\n"
            "Tom Reid, the party leader, said the election was fair.\n\n"
            '"We won," Reid said.')
    assert ("direct", "We won", "Tom Reid", "the party leader") in quotes(body)
