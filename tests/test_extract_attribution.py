"""Speaker attribution on the failure patterns of issue 23, each on sentences invented for the test.

1. pronoun gender and number; 2. a name in the speaker's own words wins; 3. 'Name, role:' and
'Name (role):' layouts; 4. posts and written statements; 5. questions and requests put to
someone; 6. the object of a verb of criticism is not a quote; and organisations as speakers.
"""
from __future__ import annotations

import pytest

from pipeline.config import ExtractConfig
from pipeline.extraction import extract_quotes, load_nlp
from pipeline.extraction.gender import first_name_gender, is_first_name
from pipeline.extraction.resolution import PersonRegistry

MODEL = ExtractConfig().spacy_model


def quotes(body: str) -> list[tuple[str, str, str | None]]:
    doc = load_nlp(MODEL)(body)
    return [(quote.kind, quote.text, quote.speaker) for quote in extract_quotes(doc, "t")]


def speaker_of(body: str, fragment: str) -> str | None:
    """The speaker of the quote holding `fragment`; fails when no quote holds it."""
    found = [speaker for _, text, speaker in quotes(body) if fragment in text]
    assert found, (fragment, quotes(body))
    return found[0]


# 1. pronoun gender and number

def test_first_names_carry_gender_from_the_lexicon():
    assert first_name_gender("Margaret") == "female" and first_name_gender("Thomas") == "male"
    assert is_first_name("Kim") and first_name_gender("Kim") is None  # used for both
    assert not is_first_name("Referendum")


def test_she_skips_a_man_named_later_for_the_woman_in_apposition():
    body = ("Title\n\nHelga Brandt - a Danish woman - quoted the report on Monday. "
            "Her neighbour Paul Okafor disagreed with it.\n\n"
            '"We cannot wait another year," she said.')
    assert speaker_of(body, "We cannot wait another year") == "Helga Brandt"


@pytest.mark.parametrize(("first_mention", "pronoun"), [
    ("Ms Jo Lindqvist", "she"),                   # a title
    ("Mr Jo Lindqvist", "he"),
    ("Jo Lindqvist, a mother of two,", "she"),    # an apposition word
    ("Jo Lindqvist, a local man,", "he"),
])
def test_gender_comes_from_titles_and_appositions(first_mention, pronoun):
    other = "Mark Evans" if pronoun == "she" else "Anna Evans"
    body = (f"Title\n\n{first_mention} opened the meeting. Later {other} arrived with the minutes.\n\n"
            f'"The plan is sound," {pronoun} said.')
    assert speaker_of(body, "The plan is sound") == "Jo Lindqvist"


def test_gender_comes_from_an_earlier_pronoun():
    body = ("Title\n\nSam Whitlock joined the campaign in May. She had been a teacher for years.\n\n"
            "Then Peter Grant joined the campaign too.\n\n"
            '"We knocked on every door," she said.')
    registry = PersonRegistry(load_nlp(MODEL)(body))
    assert registry.gender_of("Sam Whitlock") == "female"
    assert speaker_of(body, "We knocked on every door") == "Sam Whitlock"


def test_a_pronoun_no_one_agrees_with_stays_unresolved_and_keeps_its_mention():
    body = 'Title\n\nMr Tomas Reyes spoke first.\n\n"The count was fair," she said.'
    doc = load_nlp(MODEL)(body)
    [quote] = [quote for quote in extract_quotes(doc, "t") if "count was fair" in quote.text]
    assert (quote.speaker, quote.speaker_mention) == (None, "she")


def test_it_does_not_take_a_plural_group():
    body = ('Title\n\nOfficials said the count was slow.\n\n'
            '"We will publish the figures tomorrow," it said.')
    assert speaker_of(body, "publish the figures") != "Officials"


def test_a_pronoun_outside_a_quotation_does_not_take_a_name_inside_it():
    body = ('Title\n\nCarlos Mendez led the rally.\n\n'
            '"Someone should remind Mayor Hugo Alvarez of his promises," he said.')
    assert speaker_of(body, "Someone should remind") == "Carlos Mendez"


# 2. a speaker mention holding a proper name resolves to that name

@pytest.mark.parametrize("sentence", [
    '"We will not give up," said former politician and athlete Tom Harlow.',
    '"We will not give up," Tom Harlow, a former athlete, said.',
    'Former athlete Tom Harlow said: "We will not give up."',
])
def test_the_name_in_the_frame_wins_over_a_person_named_elsewhere(sentence):
    body = f"Title\n\nThe mayor, Rita Vance, opened the stadium on Sunday.\n\n{sentence}"
    assert speaker_of(body, "We will not give up") == "Tom Harlow"


def test_inverted_speaker_with_a_single_first_name():
    body = 'Title\n\n"It was an easy choice," said Lucia, who gave only her first name.'
    assert speaker_of(body, "It was an easy choice") == "Lucia"


def test_a_name_in_apposition_to_a_role_wins_over_another_holder_of_the_role():
    body = ("Title\n\nThe director of one polling firm, Omar Haddad, said the race was open.\n\n"
            "Later the head of a rival firm, Sofia Berlin, told reporters the vote would be close.")
    assert speaker_of(body, "the vote would be close") == "Sofia Berlin"  # a surname that is also a city


def test_a_participle_after_a_name_following_the_quotation_speaks_for_that_name():
    body = ('Title\n\nTurnout was low, according to experts.\n\n'
            '"Surveys miss the quiet voters," Ana Reyes, a statistician, adding that only a third took part.\n\n'
            '"Their reasons remain a puzzle to us."')
    found = {(text, speaker) for _, text, speaker in quotes(body)}
    assert ("Surveys miss the quiet voters", "Ana Reyes") in found
    assert ("only a third took part", "Ana Reyes") in found
    assert ("Their reasons remain a puzzle to us", "Ana Reyes") in found


# 3. 'Name, role:' and 'Name (role):' layouts, and a name after the quotation with no verb

@pytest.mark.parametrize(("paragraph", "speaker", "words"), [
    ('Anna Berg, mayor of Eastport: "We lost the argument, not the town."', "Anna Berg", "We lost the argument"),
    ("Karl Weiss (Green Party): The result is a clear mandate for change.", "Karl Weiss", "a clear mandate"),
    ('Omar Haddad, farmer: "Nobody asked us what we wanted."', "Omar Haddad", "Nobody asked us"),
])
def test_reaction_paragraphs_name_their_speaker_before_a_colon(paragraph, speaker, words):
    body = f"Reactions to the vote\n\nPoliticians and residents reacted on Sunday.\n\n{paragraph}"
    assert speaker_of(body, words) == speaker


def test_a_section_heading_before_a_colon_is_not_a_speaker():
    body = "Title\n\nIntroduction\n\nKherson: The count went on all night in the region."
    assert quotes(body) == []


def test_a_name_after_the_quotation_without_a_verb_is_the_speaker():
    body = ('Title\n\nThe march crossed the capital.\n\n'
            '"The streets belong to everyone today," Ana Reyes, a nurse who joined the march.')
    assert quotes(body) == [("direct", "The streets belong to everyone today", "Ana Reyes")]


# 4. posts and written statements

def test_an_embedded_post_is_its_account_holder_s_quote():
    body = ("Title\n\nThe minister reacted online.\n\n"
            "Proud of my country today. A new start for all of us. pic.twitter.com/abc123 "
            "\u2014 Nora Quinn \U0001F1EE\U0001F1EA (@noraquinn) June 5, 2022")
    assert quotes(body) == [("direct", "Proud of my country today. A new start for all of us", "Nora Quinn")]


@pytest.mark.parametrize(("sentence", "words"), [
    ('The singer Nora Quinn shared a post on Instagram simply reading: "Proud of my country today."', "Proud of my"),
    ('Nora Quinn wrote on X that the result was "a new beginning".', "a new beginning"),
    ('Nora Quinn posted on X: "A new beginning for all of us."', "A new beginning"),
    ("Nora Quinn said in a statement that the count should resume on Monday.", "the count should resume"),
])
def test_posts_and_written_statements_are_their_author_s(sentence, words):
    assert speaker_of(f"Title\n\n{sentence}", words) == "Nora Quinn"


# 5. questions and requests put to someone

@pytest.mark.parametrize(("sentence", "speaker", "text"), [
    ("Deputy Anna Kerr asked the minister if she would condemn the protests.",
     "Anna Kerr", "the minister if she would condemn the protests"),
    ("The union urged members to vote early in the morning.",
     "The union", "members to vote early in the morning"),
    ("President Tom Reid called on rival leaders to join the talks.",
     "Tom Reid", "rival leaders to join the talks"),
    ("President Tom Reid has called on rival leaders for talks next week.",
     "Tom Reid", "rival leaders for talks next week"),
    ("Maria Lopez asked that the ballots be counted again.", "Maria Lopez", "the ballots be counted again"),
])
def test_questions_and_requests_are_the_asker_s(sentence, speaker, text):
    assert quotes(f"Title\n\n{sentence}") == [("question", text, speaker)]


def test_the_person_asked_never_speaks_the_question():
    body = ("Title\n\nThe minister, Rosa Ibarra, opened the debate.\n\n"
            "Deputy Anna Kerr asked the minister if she would condemn the protests.")
    assert [speaker for kind, _, speaker in quotes(body) if kind == "question"] == ["Anna Kerr"]
    assert "Rosa Ibarra" not in {speaker for _, _, speaker in quotes(body)}


# organisations as speakers

def test_a_definite_noun_resolves_to_the_organisation_named_before():
    body = ("Title\n\nThe Ministry of Health published new rules on Monday.\n\n"
            "The ministry said in a statement that the count would resume on Tuesday.")
    assert speaker_of(body, "the count would resume") == "Ministry of Health"


# 6. precision: the object of a verb of criticism is not a quote

@pytest.mark.parametrize("sentence", [
    'Protest leaders condemned the vocal "no" voters on Sunday.',
    "The mayor criticised the new parking rules.",
])
def test_the_object_of_a_verb_of_criticism_is_not_a_quote(sentence):
    assert quotes(f"Title\n\n{sentence}") == []


def test_a_quoted_predicate_of_a_verb_of_criticism_is_what_was_said():
    body = 'Title\n\nSenator Joan Baxter blasted the plan as "a disgrace to democracy".'
    assert quotes(body) == [("partial", 'the plan as "a disgrace to democracy"', "Joan Baxter")]


# descriptions

def test_a_bare_definite_role_refers_back_to_the_last_speaker_not_to_a_name_that_follows():
    body = ("Title\n\nPremier Hector Ortega cast his ballot at dawn. Ortega said the count would be fair.\n\n"
            '"Our neighbours are watching closely," said the leader.\n\n'
            "He later praised Luis Romero, a former rival.")
    assert speaker_of(body, "Our neighbours are watching") == "Hector Ortega"


# nested reports with a speaker of their own

def test_a_report_nested_in_a_quotation_is_also_its_own_speaker_s():
    body = 'Title\n\nLaura Fenn told the radio: "Carla Ruiz has confirmed that the accounts were in order last year."'
    found = {(text, speaker) for _, text, speaker in quotes(body)}
    assert ("the accounts were in order last year", "Carla Ruiz") in found
    assert any(speaker == "Laura Fenn" and "Carla Ruiz has confirmed" in text for text, speaker in found)


def test_a_hypothetical_or_pronoun_report_inside_a_quotation_is_not_split_off():
    body = 'Title\n\nLaura Fenn said: "If they said the vote was rigged, we would object."'
    assert [speaker for _, _, speaker in quotes(body)] == ["Laura Fenn"]


def test_a_nested_speaker_of_an_adjective_complement_is_kept():
    body = "Title\n\nLaura Fenn argued that Carla Ruiz was right to say that the bridge needs repairs."
    assert ("indirect", "the bridge needs repairs", "Carla Ruiz") in quotes(body)


def test_the_object_of_prompted_to_announce_is_the_announcer():
    body = "Title\n\nThe leak forced the Audit Office to announce that it would review every contract."
    assert speaker_of(body, "it would review every contract") == "the Audit Office"


# paragraphs of someone's words without quotation marks, and a quotation after its speaker's sentence

def test_a_paragraph_after_she_said_colon_is_her_quote():
    body = ("Title\n\nSpokeswoman Jana Holt says the law must stay.\n\nShe said:\n\n"
            "Every family deserves a fair hearing, and this law gives them one.")
    assert speaker_of(body, "Every family deserves a fair hearing") == "Jana Holt"


def test_a_quotation_that_lost_its_opening_mark_continues_across_a_paragraph():
    body = ('Title\n\nAt the rally Nell Corrie said she expects a high turnout.\n\n'
            'She said: "This vote is about fairness.\n\n'
            "Whether you agree or not, the result will shape the next decade.\n\n"
            '"Nobody should stay home on Friday," she added.')
    assert speaker_of(body, "the result will shape the next decade") == "Nell Corrie"
    uncued = body.replace('"Nobody should stay home on Friday," she added.', '"Nobody should stay home on Friday."')
    assert "added" not in uncued and speaker_of(uncued, "Nobody should stay home on Friday") == "Nell Corrie"


def test_an_unmarked_paragraph_with_its_own_speaker_is_not_swallowed():
    body = ('Title\n\nNell Corrie said: "This vote is about fairness.\n\n'
            "The mayor said the turnout was high.\n\n"
            '"Nobody should stay home," she added.')
    assert speaker_of(body, "the turnout was high") != "Nell Corrie"


def test_a_quotation_after_a_sentence_about_its_speaker_is_theirs():
    body = ("Title\n\nThe minister, Ada Moreno, toured the harbour on Friday.\n\n"
            'Later Ada Moreno visited the old port and met the crews. "The fishing fleet needs a fair deal."')
    assert speaker_of(body, "The fishing fleet needs a fair deal") == "Ada Moreno"


# content boundaries

@pytest.mark.parametrize(("sentence", "content"), [
    ("Judge Anna Pratt said that if the bill passes, tenants will lose their protection.",
     "if the bill passes, tenants will lose their protection"),
    # a body cut mid-sentence, as stored web pages are: the parser takes 'since' for the complement's own
    ("Judge Anna Pratt told reporters that since the rule was brought in", "since the rule was brought in"),
])
def test_a_condition_or_reason_opening_the_reported_clause_is_part_of_it(sentence, content):
    assert quotes(f"Title\n\n{sentence}") == [("indirect", content, "Anna Pratt")]


def test_a_nested_report_keeps_its_condition_and_its_own_speaker():
    body = ('Title\n\nAccording to Mayor Tom Hale, the High Court has clarified that if the law is repealed '
            'the council will "lose all its powers".')
    nested = ("partial", 'if the law is repealed the council will "lose all its powers"', "the High Court")
    assert nested in quotes(body)


# relative clauses

def test_a_relative_clause_on_a_case_name_speaks_for_the_ruling_it_names():
    body = ("Title\n\nCritics pointed to the High Court decision \u2013 B vs the Minister for Health \u2013 "
            "which confirmed that the agency had acted lawfully.")
    speaker = speaker_of(body, "the agency had acted lawfully")
    assert speaker.startswith("the High Court decision") and "confirmed" not in speaker


def test_a_relative_clause_on_a_person_s_apposition_keeps_the_person():
    body = "Title\n\nThe council praised the new mayor, Tom Hale, who said that the roads would be fixed."
    assert speaker_of(body, "the roads would be fixed") == "Tom Hale"


def test_a_name_tagged_a_place_more_often_than_a_person_is_not_a_person():
    """The small model's tags of one name vary between sentences; the article's majority decides."""
    from spacy.tokens import Span

    body = ("Title\n\nFamilies need more help with childcare, according to Brava Ireland.\n\n"
            "Brava Ireland is a small party.\n\n"
            "This morning, Brava Ireland called for a No vote on Friday, the only party doing so.\n\n"
            "They say more money should go to parents.")
    doc = load_nlp(MODEL)(body)
    names = [doc.char_span(at, at + len("Brava Ireland")) for at in range(len(body))
             if body.startswith("Brava Ireland", at)]
    doc.ents = [Span(doc, name.start, name.end, label) for name, label in zip(names, ("GPE", "GPE", "PERSON"))]
    assert "Brava Ireland" not in PersonRegistry(doc).people
    said = {quote.text: quote.speaker for quote in extract_quotes(doc, "t")}
    assert said["more money should go to parents"] == "Brava Ireland"  # 'they': the last group that spoke


# organisations the parser does not take for a subject

@pytest.mark.parametrize("sentence", [
    "While Together for Change have held an event urging people to join the march.",
    "While Together for Change held a rally on Friday urging voters to bring a neighbour to the count.",
    "While Onward for Yes held a rally on Friday urging voters to bring a neighbour to the count.",
])
def test_a_capitalised_name_before_a_verb_without_subject_is_its_speaker(sentence):
    [(kind, _, speaker)] = quotes(f"Title\n\n{sentence}")
    assert kind == "question" and speaker in ("Together for Change", "Onward for Yes")


@pytest.mark.parametrize("first", [
    "The Fair Rents Alliance met on Monday.",
    "Jane Moss of the Fair Rents Alliance spoke on Monday.",
])
def test_the_group_is_the_organisation_named_before(first):
    body = f"Title\n\n{first}\n\nThe group said rents had doubled in five years."
    assert speaker_of(body, "rents had doubled") == "Fair Rents Alliance"
    assert "Fair Rents Alliance" not in PersonRegistry(load_nlp(MODEL)(body)).people


def test_a_description_in_apposition_is_the_organisation_named_before_it():
    body = ('Title\n\n"It will be tight," said Jane Moss, spokeswoman for the Fair Rents campaign, '
            "the largest tenant group, which is urging members to vote.")
    assert speaker_of(body, "members to vote") == "Fair Rents campaign"
    assert speaker_of(body, "It will be tight") == "Jane Moss"


# reporting verbs that need a particle or an adjective

@pytest.mark.parametrize(("sentence", "content"), [
    ("Tom Hale pointed out that the teams made a good choice.", "the teams made a good choice"),
    ("Mayor Tom Hale made it clear the plan would not end with the vote.", "the plan would not end with the vote"),
    ("Tom Hale made clear that the plan would go ahead.", "the plan would go ahead"),
    ("Most voters want a change, and Tom Hale made it clear the process to reform it would not end with the vote.",
     "the process to reform it would not end with the vote"),
])
def test_pointed_out_and_made_it_clear_report_their_clause(sentence, content):
    assert ("indirect", content, "Tom Hale") in quotes(f"Title\n\n{sentence}")


@pytest.mark.parametrize("sentence", ["Tom Hale made the room clean.", "Tom Hale pointed out the window."])
def test_make_and_point_without_their_reporting_word_report_nothing(sentence):
    assert quotes(f"Title\n\n{sentence}") == []


def test_a_report_cut_off_at_the_end_of_a_stored_page_keeps_its_words():
    body = "Title\n\nMayor Tom Hale opened the bridge.\n\nHale said the cost of both the road an"
    assert quotes(body)[-1] == ("indirect", "the cost of both the road an", "Tom Hale")


def test_the_object_of_said_in_a_finished_sentence_is_not_a_report():
    assert quotes("Title\n\nMayor Tom Hale said a prayer for the victims.") == []


def test_a_title_and_a_surname_name_a_person_a_pronoun_can_take():
    body = ('Title\n\nMost voters want a change, and Mr Hale made it clear the reform would go on.\n\n'
            '"We will not stop," he said.')
    assert speaker_of(body, "We will not stop") == "Hale"
