"""Each labeling function on short texts: cues, negation scope, frames, relevance, priors, similarity."""
from __future__ import annotations

import pytest

from pipeline.config import LabelingConfig, TargetConfig, load_params
from pipeline.labeling.cues import find_cues, tokens
from pipeline.labeling.functions import BUILDERS, build_labeling_functions


@pytest.fixture(scope="module")
def params():
    from helpers import REPO_ROOT

    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="module")
def target(params) -> TargetConfig:
    return params.target


@pytest.fixture(scope="module")
def cfg(params) -> LabelingConfig:
    return params.labeling


def function(name, target, cfg):
    return BUILDERS[name](target, cfg)


def test_tokens_open_contractions_and_drop_quote_marks():
    assert tokens("Moscow hasn't taken any \u201clegal\u201d steps, they won't") == \
        ["moscow", "has", "not", "taken", "any", "legal", "steps", ",", "they", "will", "not"]


@pytest.mark.parametrize("text, negated", [
    ("We will recognize the result", False),
    ("We will not recognize the result", True),
    ("The US would never formally recognize it", True),
    ("We do not doubt it, and we recognize the result", False),   # the clause break ends the scope
    ("No one here , we recognize it", False),
    ("Not that it matters much to anyone here : we recognize it", False),
])
def test_negation_scope(text, negated):
    (match,) = find_cues(tokens(text), ["recogni*"], ["not", "never", "no"], scope=4)
    assert match.negated is negated


def test_negator_beyond_scope_does_not_negate():
    (match,) = find_cues(tokens("It is not true that the people in the end recognize it"), ["recogni*"],
                         ["not"], scope=4)
    assert not match.negated


@pytest.mark.parametrize("text, vote", [
    ("The United States will not recognize the results", "oppose"),     # negated endorsement: not support
    ("Washington won't accept its outcome", "oppose"),
    ("Moscow will recognize the results", "support"),
    ("The vote was democratic and open", "support"),
    ("The weather in Tskhinvali was mild", None),
])
def test_cue_support(make_quote, target, cfg, text, vote):
    assert function("cue_support", target, cfg).vote(make_quote(text)) == vote


@pytest.mark.parametrize("text, vote", [
    ("Such a referendum is illegal", "oppose"),
    ("The referendum is not illegal", None),              # negated criticism abstains
    ("The territory is occupied by Russia", "oppose"),
    ("We will hold the vote in May", None),
])
def test_cue_oppose(make_quote, target, cfg, text, vote):
    assert function("cue_oppose", target, cfg).vote(make_quote(text)) == vote


@pytest.mark.parametrize("text, vote", [
    ("Moscow has not taken any legal steps on the matter", "neutral"),
    ("No decision has been made on the procedure", "neutral"),
    ("The procedure is a sham", None),                  # a side is taken: not procedure talk
    ("The referendum is illegal", None),
])
def test_cue_procedure(make_quote, target, cfg, text, vote):
    assert function("cue_procedure", target, cfg).vote(make_quote(text)) == vote


@pytest.mark.parametrize("text, sentence, vote", [
    ("unacceptable", 'He seeks a referendum on joining Russia, a move Tbilisi called "unacceptable."', "oppose"),
    ("democratic and open", 'The envoy praised the ballot, calling the count "democratic and open."', "support"),
    ("the results would stand", "The US said it would not recognize the vote, adding the results would stand",
     "oppose"),
    ("the vote was a sham", "Kyiv denounced the plan, saying the vote was a sham", "oppose"),
    ("the vote went smoothly", "Observers welcomed the turnout, saying the vote went smoothly", "support"),
    ("the region is looking to hold a referendum",
     'The leader says the region is looking to hold a referendum, a move Tbilisi called "unacceptable."', None),
])
def test_reporting_frame_reads_only_the_lead_in(make_quote, target, cfg, text, sentence, vote):
    assert function("reporting_frame", target, cfg).vote(make_quote(text, sentence=sentence)) == vote


@pytest.mark.parametrize("text, sentence, vote", [
    ("There is no issue of Abkhazia joining Russia", None, "neutral"),
    ("Like Abkhazia, South Ossetia must join Russia", None, None),      # names the target's subject
    ("his region was not considering joining Russia",
     "The speaker of the parliament of Abkhazia said his region was not considering joining Russia", "neutral"),
    ("the referendum will be held soon", None, None),
])
def test_target_relevance(make_quote, target, cfg, text, sentence, vote):
    assert function("target_relevance", target, cfg).vote(make_quote(text, sentence=sentence)) == vote


def test_speaker_prior_by_name_and_alias(make_quote, target, cfg):
    prior = function("speaker_prior", target, cfg)
    assert prior.vote(make_quote("anything", speaker="Anatoly Bibilov")) == "support"
    assert prior.vote(make_quote("anything", speaker="zalkaliani")) == "oppose"
    assert prior.vote(make_quote("anything", speaker="Dmitry Peskov")) is None   # configured without a stance
    assert prior.vote(make_quote("anything", speaker="Someone Else")) is None


def test_affiliation_prior_from_actor_or_description(make_quote, target, cfg):
    prior = function("affiliation_prior", target, cfg)
    assert prior.vote(make_quote("x", speaker="Ned Price")) == "oppose"
    assert prior.vote(make_quote("x", speaker="Nino Unknown", speaker_role="Georgian Foreign Minister")) == "oppose"
    assert prior.vote(make_quote("x", speaker="Kremlin spokesman")) is None       # camp without a stance
    assert prior.vote(make_quote("x", speaker="A Farmer")) is None


def test_camps_that_disagree_abstain(make_quote, cfg):
    target = TargetConfig(id="t", name="t", description="t", terms=["vote"], subject=["X"],
                          affiliations=[{"name": "Yes camp", "aliases": ["Yes"], "stance": "support"},
                                        {"name": "No camp", "aliases": ["No"], "stance": "oppose"}])
    prior = function("affiliation_prior", target, cfg)
    assert prior.vote(make_quote("x", speaker="Jo", speaker_role="Yes campaigner")) == "support"
    assert prior.vote(make_quote("x", speaker="Jo", speaker_role="Yes and No campaigner")) is None


def test_example_similarity_votes_the_nearest_example_label(make_quote, target, cfg):
    similarity = function("example_similarity", target, cfg)
    quotes = [make_quote("This referendum is illegal and nobody will ever recognise its results."),
              make_quote("We want to hold the vote on reunification with Russia very soon."),
              make_quote("Bananas are rich in potassium.")]
    assert similarity.vote_all(quotes) == ["oppose", "support", None]


def test_example_similarity_abstains_without_examples(make_quote, target, cfg):
    bare = target.model_copy(update={"examples": {}})
    assert function("example_similarity", bare, cfg).vote(make_quote("The vote is illegal")) is None


def test_build_follows_the_configured_order(target, cfg):
    chosen = cfg.model_copy(update={"functions": ["speaker_prior", "cue_oppose"]})
    assert [f.name for f in build_labeling_functions(target, chosen)] == ["speaker_prior", "cue_oppose"]


@pytest.mark.parametrize("text, sentence, vote", [
    ("to recognize the referendum", "Brussels flatly refused to recognize the referendum.", "oppose"),
    ("to accept the result", "Officials declined to accept the result.", "oppose"),
    ("to call it illegal", "Moscow declined to call it illegal.", None),        # refused criticism: no side
    ("to recognize the referendum", "The EU said it was ready to recognize the referendum.", None),
])
def test_reporting_frame_refusal_negates_the_quote(make_quote, target, cfg, text, sentence, vote):
    assert function("reporting_frame", target, cfg).vote(make_quote(text, sentence=sentence)) == vote


@pytest.mark.parametrize("text, support, oppose", [
    ("The people have the right to decide their future", "support", None),
    ("We will not respect the result", "oppose", None),                  # negated endorsement
    ("The vote was free and fair", "support", None),
    ("The vote was not free and fair", "oppose", None),
    ("This so-called referendum was rigged", None, "oppose"),
    ("The count was not rigged", None, None),                             # negated criticism abstains
    ("It was held at gunpoint", None, "oppose"),
])
def test_general_cue_families_with_negation(make_quote, target, cfg, text, support, oppose):
    quote = make_quote(text)
    assert function("cue_support", target, cfg).vote(quote) == support
    assert function("cue_oppose", target, cfg).vote(quote) == oppose


@pytest.fixture(scope="module")
def scotland() -> TargetConfig:
    """Another target than the seed's: nothing in the functions may assume South Ossetia."""
    from helpers import REPO_ROOT
    from pipeline.config import compose, validate_params

    return validate_params(compose(REPO_ROOT / "conf", ["target=scotland_independence_2014"])).target


def test_functions_follow_any_target(make_quote, scotland, cfg):
    prior = function("speaker_prior", scotland, cfg)
    camp = function("affiliation_prior", scotland, cfg)
    support = function("cue_support", scotland, cfg)
    relevance = function("target_relevance", scotland, cfg)
    assert prior.vote(make_quote("x", speaker="Alex Salmond")) == "support"
    assert prior.vote(make_quote("x", speaker="Anatoly Bibilov")) is None          # the seed's actor, not this one's
    assert camp.vote(make_quote("x", speaker="Jo Bloggs", speaker_role="Better Together campaigner")) == "oppose"
    assert support.vote(make_quote("An independent Scotland will thrive")) == "support"
    assert support.vote(make_quote("Unification with Russia is our strategic goal")) is None   # seed-only cues
    assert relevance.vote(make_quote("Quebec has had two referendums of its own")) == "neutral"
    assert relevance.vote(make_quote("Abkhazia is not joining anyone")) is None


def test_example_similarity_with_a_missing_encoder_folder_names_the_setting(target, cfg, tmp_path):
    from pipeline.errors import PipelineError

    missing = cfg.model_copy(update={"embedding_model": str(tmp_path / "nowhere")})
    with pytest.raises(PipelineError, match="model folder not found") as error:
        function("example_similarity", target, missing)
    assert error.value.field == "labeling.embedding_model"
