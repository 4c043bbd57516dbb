"""python -m bench.label_agreement: index parsing, per-speaker aggregation, agreement arithmetic, one real article."""
from __future__ import annotations

import importlib.util

from helpers import REPO_ROOT
from pipeline.config import compose, validate_params
from pipeline.records import quote_id

bench = importlib.import_module("bench.label_agreement")

INDEX = """| # | File | Outlet | Speaker stances |
|---|---|---|---|
| 31 | `31_a.txt` | X | **Ann Lee**: support; says 'yes'<br>**Bo al-Din**: oppose (borderline); accepts it | note |
| 32 | `32_b.txt` | Y | **A minister (unnamed in text)**: oppose; ...<br>**Cy Dee**: neutral; procedure | |
"""


def labelled(label, confidence, speaker="Ann Lee", text=None):
    from pipeline.records import LabelledQuote

    text = text or f"{label} {confidence}"
    return LabelledQuote(id=quote_id("a", text), article_id="a", text=text, kind="direct", cue="said",
                         speaker=speaker, speaker_mention=speaker, speaker_role=None, start=0, end=len(text),
                         sentence=text, target="t", label=label, label_source="weak", confidence=confidence)


def test_parse_index_names_stances_and_borderline():
    stances = bench.parse_index(INDEX)
    assert [(s.number, s.speaker, s.stance, s.borderline) for s in stances] == [
        (31, "Ann Lee", "support", False), (31, "Bo al-Din", "oppose", True), (32, "Cy Dee", "neutral", False)]
    assert stances[0].file == "31_a.txt"


def test_quotes_stance_weighs_each_quote_by_its_confidence():
    stance = bench.quotes_stance([labelled("support", 0.6, text="q0"), labelled("neutral", 0.9, text="q1"),
                                  labelled("neutral", 0.9, text="q2")])
    assert (stance.label, stance.quotes, stance.weights["neutral"]) == ("neutral", 3, 1.8)


def test_agreement_counts_missing_as_disagreement_and_borderline_apart():
    ann, bo, cy = bench.parse_index(INDEX)
    said = {"support": bench.SpeakerStance("support", {}, 1), "oppose": bench.SpeakerStance("oppose", {}, 1)}
    comparisons = [bench.Comparison(ann, {"v": said["support"]}),      # agrees
                   bench.Comparison(bo, {"v": said["support"]}),       # borderline, disagrees
                   bench.Comparison(cy, {"v": None})]                  # no quote found
    scores = bench.agreement(comparisons, "v")
    assert scores["overall"] == {"agreed": 1, "total": 3, "missing": 1, "rate": 0.333}
    assert scores["clear"] == {"agreed": 1, "total": 2, "missing": 1, "rate": 0.5}
    assert scores["borderline"] == {"agreed": 0, "total": 1, "missing": 0, "rate": 0.0}


def test_quotes_of_matches_normalised_names_and_actor_aliases():
    params = validate_params(compose(REPO_ROOT / "conf", ["target=kurdistan_independence_2017"]))
    quotes = [labelled("oppose", 1.0, speaker="Haider Al Abadi", text="a"),
              labelled("oppose", 1.0, speaker="Abadi", text="b"),
              labelled("support", 1.0, speaker="Masoud Barzani", text="c")]
    assert [q.text for q in bench.quotes_of("Haider al-Abadi", quotes, params)] == ["a", "b"]


def test_every_mapped_target_exists():
    for target in bench.read_targets().values():
        assert (REPO_ROOT / "conf" / "target" / f"{target}.yaml").is_file(), target


def test_script_runs_on_one_article(shared, capsys):
    assert bench.main(["--corpus", str(shared / "corpus"), "--articles", "13"]) == 0
    out = capsys.readouterr().out
    assert "Vladimir Saldo" in out and "Yevgeniy Balitskiy" in out
    assert "all functions  overall 2/2 = 1.0" in out
    assert "text only" in out
