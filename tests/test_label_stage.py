"""The label stage: label model over votes, gold overrides, the report, main() on a temp project,
and the seed target's accuracy against gold with gold withheld."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from helpers import REPO_ROOT, SEED_ARTICLE
from pipeline.config import load_params
from pipeline.label import label_stage, main
from pipeline.labeling.annotations import annotation_for, read_annotations, write_annotations
from pipeline.labeling.functions import per_quote
from pipeline.labeling.label_model import ABSTAIN, combine_votes, function_report, vote_matrix
from pipeline.records import LabelledQuote, read_records, write_records
from pipeline.tracking import labeling_metrics

SEED_GOLD = REPO_ROOT / "data" / "annotations" / "south_ossetia_referendum.csv"


@pytest.fixture(scope="module")
def params():
    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="module")
def seed_quotes(params):
    """What the extractor makes of the seed article, exactly as the pipeline would see it."""
    from pipeline.extract import extract_stage
    from pipeline.ingest import ingest_files

    quotes, _ = extract_stage(ingest_files([SEED_ARTICLE]).articles, params.extract)
    return quotes


def test_label_model_follows_agreeing_votes_and_defaults_without_votes(params):
    matrix = np.array([[0, 0, ABSTAIN], [1, 1, 1], [2, ABSTAIN, 2], [ABSTAIN] * 3, [0, 0, 0], [1, ABSTAIN, 1]])
    weak = combine_votes(matrix, params.labeling)
    assert weak.labels == ["support", "oppose", "neutral", params.labeling.default_label, "support", "oppose"]
    assert weak.confidences[3] == pytest.approx(1 / 3, abs=1e-3)
    assert min(weak.confidences[:3]) > 0.5


def test_label_model_never_picks_a_label_no_function_voted_for(params):
    """On a handful of quotes Snorkel's fit can settle on a permutation of the labels: unrestricted,
    it calls the first three quotes (every vote 'oppose') neutral with probability ~0.9."""
    matrix = np.array([[ABSTAIN, 1, ABSTAIN, 1, ABSTAIN, 1, 1, ABSTAIN],
                       [ABSTAIN, 1, ABSTAIN, ABSTAIN, ABSTAIN, 1, 1, 0],
                       [ABSTAIN, 1, ABSTAIN, ABSTAIN, ABSTAIN, 1, 1, ABSTAIN],
                       [1, ABSTAIN, ABSTAIN, ABSTAIN, ABSTAIN, 1, 1, 1],
                       [ABSTAIN, ABSTAIN, ABSTAIN, ABSTAIN, ABSTAIN, 1, 1, ABSTAIN],
                       [0, ABSTAIN, ABSTAIN, ABSTAIN, ABSTAIN, 0, 0, 1]])
    weak = combine_votes(matrix, params.labeling)
    assert weak.labels == ["oppose", "oppose", "oppose", "oppose", "oppose", "support"]
    assert weak.confidences[0] == pytest.approx(1.0)          # the only label cast keeps all the mass
    assert 0.5 < weak.confidences[1] < 1.0                    # oppose against one 'support' vote


def test_function_report_counts_coverage_conflicts_and_gold_accuracy(make_quote):
    quotes = [make_quote("a"), make_quote("b"), make_quote("c")]
    says_support = per_quote("always_support", lambda quote: "support")
    says_oppose_on_b = per_quote("oppose_b", lambda quote: "oppose" if quote.text == "b" else None)
    matrix = vote_matrix([says_support, says_oppose_on_b], quotes)
    report = function_report(matrix, [says_support, says_oppose_on_b], ["support", "oppose", None])
    assert report["always_support"]["coverage"] == 1.0
    assert report["oppose_b"]["coverage"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["always_support"]["conflicts"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["always_support"]["gold_accuracy"] == 0.5
    assert report["oppose_b"]["gold_accuracy"] == 1.0
    assert report["always_support"]["votes"] == {"support": 3, "oppose": 0, "neutral": 0}


def test_gold_overrides_weak_labels_and_votes_are_kept(make_quote, params):
    quotes = [make_quote("The referendum is illegal and we will never recognise it", speaker="Ned Price"),
              make_quote("The referendum is illegal", speaker="Somebody", start=80)]
    labelled, report = label_stage(quotes, [annotation_for(quotes[1], "neutral")], params.target, params.labeling)
    assert [(q.label, q.label_source) for q in labelled] == [("oppose", "weak"), ("neutral", "gold")]
    assert labelled[1].confidence == 1.0 and labelled[1].votes["cue_oppose"] == "oppose"
    assert set(labelled[0].votes) == set(params.labeling.functions)
    assert report["gold"] == 1 and report["weak"] == 1
    assert report["label_model"]["gold_accuracy"] == 0.0   # measured on the weak label, gold withheld
    assert report["label_model"]["gold_confusion"]["neutral"]["oppose"] == 1


@pytest.mark.slow
def test_seed_label_model_accuracy_with_gold_withheld(seed_quotes, params):
    labelled, report = label_stage(seed_quotes, read_annotations(SEED_GOLD), params.target, params.labeling,
                                   source=SEED_GOLD)
    assert report["gold"] == len(seed_quotes)     # every seed quote is annotated
    assert report["label_model"]["gold_judged"] == len(seed_quotes)
    assert report["label_model"]["gold_accuracy"] >= 0.9
    assert all(quote.label_source == "gold" for quote in labelled)


@pytest.fixture
def project(tmp_path, monkeypatch, make_quote):
    """A throwaway project root with params.yaml, quotes and annotations; MLflow in tmp."""
    shutil.copy(REPO_ROOT / "params.yaml", tmp_path / "params.yaml")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    quotes = [make_quote("Such a referendum is illegal", speaker="David Zalkaliani"),
              make_quote("I believe unification with Russia is our strategic goal", speaker="Anatoly Bibilov",
                         start=100)]
    write_records(tmp_path / "data/interim/quotes.jsonl", quotes)
    write_annotations(tmp_path / "data/annotations/south_ossetia_referendum.csv",
                      [annotation_for(quotes[0], "oppose")])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def test_main_writes_labelled_quotes_and_report(project):
    assert main([]) == 0
    labelled = list(read_records(project / "data/processed/labelled.jsonl", LabelledQuote))
    assert [(q.label, q.label_source) for q in labelled] == [("oppose", "gold"), ("support", "weak")]
    report = json.loads((project / "reports/labeling.json").read_text())
    assert report["quotes"] == 2 and report["label_model"]["gold_accuracy"] == 1.0
    assert set(report["functions"]) == set(load_params(project / "params.yaml").labeling.functions)
    assert not (project / "mlflow.db").exists(), "the report goes into the pipeline's run, opened by train"


def test_labeling_metrics_are_flat_numbers():
    report = {"quotes": 3, "gold": 1, "weak": 2,
              "label_model": {"no_votes": 0, "gold_accuracy": None, "mean_confidence": 0.8},
              "functions": {"cue_oppose": {"coverage": 0.5, "overlaps": 0.5, "conflicts": 0.0, "gold_accuracy": None}}}
    assert labeling_metrics(report) == {"quotes": 3.0, "gold": 1.0, "weak": 2.0, "label_model.no_votes": 0.0,
                                      "label_model.mean_confidence": 0.8, "lf.cue_oppose.coverage": 0.5,
                                      "lf.cue_oppose.overlaps": 0.5, "lf.cue_oppose.conflicts": 0.0}
