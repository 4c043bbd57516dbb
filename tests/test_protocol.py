"""pipeline/protocol.py: the official metric, the per-target protocol, the dev split and grid tuning, and the
protocol knowledge on the model classes (costs, CPU bounds, grids)."""
from __future__ import annotations

import itertools
import types

import pytest

from helpers import REPO_ROOT
from pipeline import protocol
from pipeline.metrics import classification_metrics
from pipeline.models import MODEL_KINDS, build_model, fits_per_target, model_kind
from pipeline.models.per_target import PerTargetModel

CONF = REPO_ROOT / "conf"


def three_label_rows() -> list[dict]:
    """30 training rows of one target, the three labels in turn."""
    return [{"id": str(i), "target": "t", "label": ("support", "oppose", "neutral")[i % 3], "text": ""}
            for i in range(30)]


def right_only_at_c1_unweighted(fitted: list | None = None):
    """A stand-in for fit_predict: the gold labels at C=1 without class weights, "support" at any other point."""
    def guess(config, train, test, seed, per_target=False):
        if fitted is not None:
            fitted.append((config.params["class_weight"], config.params["C"]))
        right = config.params["C"] == 1.0 and config.params["class_weight"] is None
        return [row["label"] if right else "support" for row in test]
    return guess


def test_semevals_f_avg_is_the_mean_f1_of_favor_and_against():
    gold = ["support", "support", "oppose", "oppose", "neutral", "neutral"]
    guess = ["support", "oppose", "oppose", "oppose", "neutral", "support"]
    # support: P 1/2, R 1/2 -> F1 0.5; oppose: P 2/3, R 1 -> F1 0.8; neutral is left out.
    assert protocol.official_score("f_avg", gold, guess) == pytest.approx(0.65)
    assert protocol.official_score("macro_f1", gold, guess) == classification_metrics(gold, guess)["macro_f1"]


def test_stratified_sample_keeps_label_proportions_and_is_seeded():
    rows = [{"label": "support"}] * 60 + [{"label": "oppose"}] * 30 + [{"label": "neutral"}] * 10
    sample = protocol.stratified_sample(rows, 20, seed=1)
    assert [sum(r["label"] == label for r in sample) for label in ("support", "oppose", "neutral")] == [12, 6, 2]
    assert protocol.stratified_sample(rows, None, seed=1) is rows and protocol.stratified_sample(rows, 500, 1) is rows


def test_grid_starts_at_its_first_values_and_dev_split_keeps_every_target_and_label():
    points = protocol.grid_points({"class_weight": ["balanced", None], "C": [1.0, 4.0]})
    assert points[0] == {"class_weight": "balanced", "C": 1.0} and len(points) == 4 and len(set(map(str, points))) == 4
    rows = [{"id": str(i), "target": f"t{i % 2}", "label": ("support", "oppose")[i // 2 % 2]} for i in range(40)]
    fit, dev = protocol.dev_split(rows, seed=0)
    assert len(dev) == 8 and not {r["id"] for r in fit} & {r["id"] for r in dev}
    assert {(r["target"], r["label"]) for r in dev} == {(r["target"], r["label"]) for r in rows}
    rows += [{"id": f"lone{i}", "target": f"a topic seen once {i}", "label": label}  # VAST has thousands
             for i, label in enumerate(["neutral", "neutral", "oppose"])]
    fit, dev = protocol.dev_split(rows, seed=0)
    assert len(fit) + len(dev) == 43 and not {r["id"] for r in fit} & {r["id"] for r in dev}
    assert len(dev) == 9  # 20% of 43, rounded up


def test_tuning_picks_the_best_dev_score_from_the_training_rows_alone(monkeypatch):
    rows, seen = three_label_rows(), []
    guess = right_only_at_c1_unweighted()

    def seeing(config, train, test, seed, per_target=False):
        seen.extend(row["id"] for row in train + test)
        return guess(config, train, test, seed)

    monkeypatch.setattr(protocol, "fit_predict", seeing)
    config = protocol.model_config(CONF, "tfidf_svm", ["text"])
    tuning = protocol.tune(config, rows, "macro_f1", 0)
    assert tuning.best == {"class_weight": None, "C": 1.0} and len(tuning.scores) == 6
    assert max(score for _, score in tuning.scores) == 1.0
    assert set(seen) == {row["id"] for row in rows}  # fit + dev = the training rows it was given


def test_an_interrupted_tuning_resumes_at_the_first_point_it_had_not_scored(monkeypatch):
    fitted, saved = [], []
    monkeypatch.setattr(protocol, "fit_predict", right_only_at_c1_unweighted(fitted))
    clock = itertools.count(0.0, 2.0)  # every fit "takes" 2 s whatever the load on the machine
    monkeypatch.setattr(protocol, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    config, rows = protocol.model_config(CONF, "tfidf_svm", ["text"]), three_label_rows()

    def interrupted(scores):
        saved.append(dict(scores))
        if len(scores) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        protocol.tune(config, rows, "macro_f1", 0, on_scored=interrupted)
    tuning = protocol.tune(config, rows, "macro_f1", 0, scored=saved[-1], on_scored=saved.append)
    assert fitted == [("balanced", 0.5), ("balanced", 1.0), ("balanced", 0.25),
                      (None, 0.5), (None, 1.0), (None, 0.25)]  # each point fitted once across the two runs
    assert tuning.best == {"class_weight": None, "C": 1.0} and len(saved[-1]) == 6
    assert tuning.seconds == 12.0  # the three resumed points' time counts too


def test_on_a_per_target_set_every_kind_is_fitted_per_target_but_finetune_which_reads_the_target():
    for kind in ("majority", "tfidf_svm", "embedding_logreg", "setfit", "finetune"):
        config = protocol.model_config(CONF, kind, ["text"], per_target=True)
        one_per_target = kind != "finetune"
        assert config.inputs == (["text"] if one_per_target else ["target", "text"])
        assert fits_per_target(config, True) is one_per_target
        assert isinstance(build_model(config, 0, True), PerTargetModel) is one_per_target
    assert protocol.model_config(CONF, "finetune", ["text"]).inputs == ["text"]  # not per target: as configured


def test_the_protocol_knowledge_on_each_model_class_names_real_params():
    """Every grid point and CPU bound is a valid params set of its kind; what the bench caps and bounds is the
    encoder kinds (a change of kind here is a change of the bench's tables)."""
    for model in MODEL_KINDS.values():
        for point in protocol.grid_points(model.tuning_grid):
            model.validate_params(point)
        if model.cpu_bound is not None:
            model.validate_params({model.cpu_bound.param: model.cpu_bound.value})
            model.validate_params({model.cpu_bound.param: model.cpu_bound.quick_value})
    costs = {kind: model.training_cost for kind, model in MODEL_KINDS.items() if model.training_cost != "light"}
    assert costs == {"embedding_logreg": "encoding", "setfit": "fine_tuning", "finetune": "fine_tuning"}
    assert {kind for kind, model in MODEL_KINDS.items() if model.english_only_encoder} == set(costs)
    assert {kind for kind, model in MODEL_KINDS.items() if model.cpu_bound} == {"setfit", "finetune"}
    assert model_kind("tfidf_svm").tuning_grid and not model_kind("majority").tuning_grid


def test_semeval_config_gives_the_official_task_a_split(shared):
    train, test = protocol.given_split(REPO_ROOT, "semeval2016_task6")
    assert (len(train), len(test)) == (2914, 1249)  # trial + training, test A (SOURCE.md)
    assert len({row["target"] for row in test}) == 5
