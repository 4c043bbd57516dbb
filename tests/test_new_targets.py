"""python -m bench.new_targets: gold speakers matched to speakers.csv rows, the scores, the configuration steps,
gold attribution, the seed's speaker stances, and a smoke run on a development set."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from helpers import REPO_ROOT
from pipeline.config import compose, validate_params
from pipeline.metrics import classification_metrics
from pipeline.records import Quote

bench = importlib.import_module("bench.new_targets")


def row(scope, article, speaker, support=0.0, oppose=0.0, neutral=0.0):
    return {"scope": scope, "article_id": article, "speaker": speaker, "weight_support": str(support),
            "weight_oppose": str(oppose), "weight_neutral": str(neutral)}


def gold_speaker(article="a1", name="Ann Lee", match=("lee",), stance="support", borderline=False):
    return bench.GoldSpeaker(article, name, match, stance, borderline)


def test_read_gold_keys_articles_by_the_file_stem(tmp_path):
    (tmp_path / "gold.json").write_text(json.dumps({"target": "t", "articles": {"01": {
        "file": "articles/01_outlet_slug.txt",
        "speakers": [{"speaker": "Ann Lee", "match": ["lee"], "stance": "oppose", "borderline": True}],
        "quotes": [{"text": "we will vote against it", "speaker": "Ann Lee"}]}}}))
    gold = bench.read_gold(tmp_path)
    assert gold.speakers == [bench.GoldSpeaker("01_outlet_slug", "Ann Lee", ("lee",), "oppose", True)]
    assert gold.quotes == [bench.GoldQuote("01_outlet_slug", "we will vote against it", "Ann Lee")]


def test_a_gold_speaker_pools_every_matching_row_of_its_article():
    rows = [row("article", "a1", "Ann Lee", support=0.9), row("article", "a1", "Minister Ann Lee", neutral=1.0),
            row("article", "a1", "Bo Day", oppose=5.0), row("article", "a2", "Ann Lee", oppose=5.0)]
    assert bench.predicted_stance(gold_speaker(), rows) == "support"           # 0.9 >= 0.5 * 1.0
    assert bench.predicted_stance(gold_speaker(), rows, neutral_weight=1.0) == "neutral"
    assert bench.predicted_stance(gold_speaker(match=("kay",)), rows) == bench.MISSING


def test_corpus_scope_reads_the_speakers_rows_across_the_corpus():
    rows = [row("article", "a1", "Ann Lee", neutral=1.0), row("corpus", None, "ann  LEE", oppose=3.0, neutral=1.0),
            row("corpus", None, "Bo Day", support=9.0)]
    assert bench.predicted_stance(gold_speaker(), rows, scope="article") == "neutral"
    assert bench.predicted_stance(gold_speaker(), rows, scope="corpus") == "oppose"


def test_macro_f1_is_classification_metrics_and_missing_is_wrong_for_every_label():
    gold = ["support", "oppose", "neutral", "support", "oppose"]
    predicted = ["support", bench.MISSING, "neutral", "oppose", "oppose"]
    assert bench.macro_f1(gold, predicted) == pytest.approx(classification_metrics(gold, predicted)["macro_f1"])
    score = bench.score(gold, predicted)
    assert (score.n, score.missing, score.accuracy) == (5, 1, 0.6)
    assert score.macro_f1_interval[0] <= score.macro_f1 <= score.macro_f1_interval[1]


def test_result_scores_all_speakers_and_the_clear_ones_apart():
    speakers = [gold_speaker(stance="support"), gold_speaker(name="Bo", stance="oppose", borderline=True)]
    result = bench.Result(speakers, ["support", "support"])
    assert (result.scores["all"].accuracy, result.scores["clear"].accuracy, result.scores["clear"].n) == (0.5, 1.0, 1)


def test_steps_start_from_todays_engine_and_add_one_part_each():
    parts = bench.present_parts([])
    assert "grammar" not in {part.name for part in parts}     # its labeling function is not configured
    parts = bench.present_parts(["stance_grammar"])
    steps = bench.build_steps(parts)
    assert steps[0].parts == frozenset() and steps[-1].parts == {part.name for part in parts}
    assert all(len(later.parts - earlier.parts) == 1 for earlier, later in zip(steps, steps[1:]))
    assert [step.scope for step in steps[-2:]] == ["article", "corpus"]


def test_todays_engine_is_the_baseline_labeling_without_sides_and_the_last_step_is_conf():
    composed = compose(REPO_ROOT / "conf", ["target=ireland_eighth_amendment_2018"])
    today = bench.step_config(composed, frozenset())
    assert today["labeling"]["lexicon"] == bench.todays_labeling()["lexicon"]
    assert "stance_grammar" not in today["labeling"]["functions"] and today["target"]["sides"] == {}
    assert today["labeling"]["neutral_roles"] == []
    everything = bench.step_config(composed, bench.build_steps(bench.PARTS)[-1].configuration)
    assert everything == composed
    validate_params(today)


def test_a_labeling_function_no_part_adds_stops_the_bench():
    composed = compose(REPO_ROOT / "conf")
    composed["labeling"]["functions"] = [*composed["labeling"]["functions"], "a_new_function"]
    with pytest.raises(SystemExit, match="a_new_function"):
        bench.step_config(composed, frozenset())


def quote(text, sentence, speaker="Someone Else", role=None, article="a1"):
    return Quote(id=text[:8], article_id=article, text=text, kind="indirect", cue="said", speaker=speaker,
                 speaker_mention=speaker, speaker_role=role, start=0, end=len(text), sentence=sentence)


def test_gold_attribution_keeps_the_extracted_quote_and_changes_only_its_speaker():
    extracted = [quote("we will vote against the bill on Friday",
                       "Ann Lee said we will vote against the bill on Friday."),
                 quote("it is fine", "Ann Lee, a minister, said it is fine and more was said.", speaker="Ann Lee",
                       role="a minister")]
    gold = bench.Gold([], [bench.GoldQuote("a1", "vote against the bill", "Ann Lee"),
                           bench.GoldQuote("a1", "more was said", "Ann Lee"),
                           bench.GoldQuote("a1", "an unattributed slogan", "unknown")])
    first, second = bench.gold_attributed(extracted, gold)
    assert (first.text, first.speaker, first.speaker_role) == (extracted[0].text, "Ann Lee", "a minister")
    assert (second.text, second.sentence, second.cue) == ("more was said", extracted[1].sentence, None)


def test_seed_stances_take_the_one_side_of_a_speakers_gold_quotes(tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("quote_id,article_id,label,speaker,text,note\n1,a,support,Ann,x,\n2,a,neutral,Ann,y,\n"
                    "3,a,neutral,Bo,z,\n4,a,support,Cy,v,\n5,a,oppose,Cy,w,\n")
    assert bench.seed_stances(path) == {"Ann": "support", "Bo": "neutral", "Cy": "neutral"}


@pytest.mark.slow
def test_quick_run_prints_a_table_per_attribution(shared):
    done = subprocess.run([sys.executable, "-m", "bench.new_targets", "--quick"], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("| today's engine |") == 2
    assert "weak labels, extracted attribution" in done.stdout and "weak labels, gold attribution" in done.stdout
