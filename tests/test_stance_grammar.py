"""The stance grammar (pipeline/labeling/grammar.py) and camps from the text (affiliation_prior) on
sentences written for these tests: votes for a side, stance verbs and nouns, negation, hedges,
conditions, third parties, evaluations, and side names that come from the target, never hard-coded."""
from __future__ import annotations

import pytest
import yaml

from helpers import REPO_ROOT
from pipeline.config import TargetConfig, compose, validate_params
from pipeline.errors import PipelineError
from pipeline.labeling.functions import BUILDERS, side_camps
from pipeline.labeling.grammar import Vocabulary, decide, parse_sentences, read_stance
from pipeline.records import Quote

BALLOT = {"support": ["Yes", "Repeal"], "oppose": ["No", "Retain"]}     # a Yes/No ballot on repealing a law
EU = {"support": ["Leave"], "oppose": ["Remain"]}


@pytest.fixture(scope="module")
def params():
    return validate_params(compose(REPO_ROOT / "conf"))


def target_with(params, sides: dict) -> TargetConfig:
    return params.target.model_copy(update={"sides": type(params.target.sides)(**sides)})


def quote(sentence: str, text: str | None = None, cue: str | None = None, kind: str = "direct",
          speaker: str = "Ann Lee", role: str | None = None) -> Quote:
    text = text or sentence
    return Quote(id="q", article_id="a", text=text, kind=kind, cue=cue, speaker=speaker, speaker_mention=speaker,
                 speaker_role=role, start=0, end=len(text), sentence=sentence)


def read(params, sides: dict, *args, **kwargs):
    item = quote(*args, **kwargs)
    vocabulary = Vocabulary.build(params.labeling.stance_words, target_with(params, sides))
    (doc,) = parse_sentences(params.labeling.spacy_model, [item.sentence])
    return decide(read_stance(doc, item, vocabulary))


@pytest.mark.parametrize("sentence, label", [
    ("I will be voting Yes.", "support"),
    ("Vote No on Friday.", "oppose"),
    ("We will campaign for repeal until polling day.", "support"),
    ("We will not support the government's plans for the new law.", "oppose"),   # negated support opposes
    ("Nobody should back this proposal.", "oppose"),
    ("We are against this proposal.", "oppose"),
    ("Our support for the proposal is total.", "support"),
    ("We must repeal it.", "support"),                                            # a side used as a verb
    ("A No vote would be a disaster for women.", "support"),                      # the side times the evaluation
    ("If the No side wins, it will be a dark day for this country.", "support"),
    ("Voting Yes would give doctors the chance to help.", "support"),
    ("I have not decided how to vote.", "neutral"),                               # undecided
    ("We are still undecided.", "neutral"),
])
def test_the_speakers_own_stance(params, sentence, label):
    assert read(params, BALLOT, sentence) == label


@pytest.mark.parametrize("sentence", [
    "They may back the plan.",                                     # a hedge
    "Should people vote No?",                                      # a question
    "If the bill passes, we will support the new law.",            # an if-clause
    "We do not oppose the referendum.",                            # negated criticism takes no side
    "Voters rejected the proposal by a wide margin.",              # a third party's act
    "Polls show 45 percent back the proposal.",
    "There was no vote on the matter.",                            # 'no' is a determiner here, not the side
    "The Yes side is ahead in the polls.",                         # a side named, no stance taken
    "The intention to vote for the Yes option is linked to trust in the government.",   # nobody's own
])
def test_no_stance_where_the_speaker_takes_none(params, sentence):
    assert read(params, BALLOT, sentence) is None


def test_a_call_names_the_side_the_speaker_wants(params):
    assert read(params, BALLOT, "The party called for a No vote on polling day.", text="a No vote on polling day",
                cue="called", kind="indirect") == "oppose"
    assert read(params, BALLOT, "She urged voters to reject the proposal.", text="voters to reject the proposal",
                cue="urged", kind="indirect") == "oppose"
    assert read(params, BALLOT, "She hopes people will vote yes.", text="people will vote yes", cue="hopes",
                kind="indirect") == "support"


def test_a_stance_verb_as_the_reporting_verb_aims_at_the_quote(params):
    assert read(params, BALLOT, "The minister backed the draft law.", text="the draft law", cue="backed",
                kind="indirect") == "support"


def test_in_reported_speech_he_and_she_are_the_speaker_but_not_in_a_direct_quote(params):
    sentence = "Ann Lee said she would vote No."
    assert read(params, BALLOT, sentence, text="she would vote No", cue="said", kind="indirect") == "oppose"
    assert read(params, BALLOT, "She would vote No.", kind="direct") is None


def test_side_names_come_from_the_target(params):
    assert read(params, EU, "We will vote Leave.") == "support"
    assert read(params, EU, "I back Remain.") == "oppose"
    assert read(params, EU, "We remain hopeful about the talks.") is None   # a side word as an ordinary verb
    assert read(params, BALLOT, "We will vote Leave.") is None
    assert read(params, {"support": [], "oppose": []}, "I will be voting Yes.") is None


def test_a_several_word_option_name_is_never_a_predicate(params):
    sides = {"support": ["I Approve"], "oppose": ["Reject"]}
    assert read(params, sides, "Most undecided voters will vote for the I Approve option.") is None
    assert read(params, sides, "I will vote for the I Approve option.") == "support"


@pytest.mark.parametrize("description, sides, camps", [
    ("spokeswoman for the No campaign", BALLOT, {"oppose"}),
    ("a volunteer at the Together for Yes stand", BALLOT, {"support"}),
    ("the main pro-repeal umbrella group", BALLOT, {"support"}),
    ("a Yes campaigner ; Retain committee member", BALLOT, {"support", "oppose"}),
    ("No one", BALLOT, set()),
    ("Labour Party Senator", BALLOT, set()),
    ("anti-Remain activist", EU, {"support"}),
    ("Leave campaigner", BALLOT, set()),
])
def test_side_camps_read_the_ballots_side_names_in_a_description(params, description, sides, camps):
    assert side_camps(description, target_with(params, sides), params.labeling.stance_words.camp_nouns) == camps


def test_affiliation_prior_takes_side_camps_and_neutral_roles_after_the_configured_camps(params):
    target = target_with(params, BALLOT)
    vote = BUILDERS["affiliation_prior"](target, params.labeling).vote
    assert vote(quote("It was close.", role="spokeswoman for the No campaign")) == "oppose"
    assert vote(quote("It was close.", role="returning officer for the constituency")) == "neutral"
    assert vote(quote("It was close.", speaker="Tbilisi")) == "oppose"          # a configured camp of the seed
    assert vote(quote("It was close.", role="Yes campaigner and returning officer")) == "support"
    assert vote(quote("It was close.", role="a No campaigner and a Yes campaigner")) is None
    assert vote(quote("It was close.", role="Senator")) is None


def test_an_unquoted_yes_in_sides_is_an_error_naming_the_field(params):
    composed = compose(REPO_ROOT / "conf")
    composed["target"]["sides"] = yaml.safe_load("{support: [Yes], oppose: [No]}")   # YAML reads true / false
    with pytest.raises(PipelineError, match=r"target\.sides\.support\.0"):
        validate_params(composed)
