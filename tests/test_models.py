"""The model registry: every kind fits, predicts, saves and loads behind one interface."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
import yaml

from pipeline.config import LabelingConfig, ModelConfig, compose, validate_params
from pipeline.errors import PipelineError
from pipeline.labeling.label_model import LabelModelTables, combine_votes, label_model_proba
from pipeline.models import MODEL_KINDS, build_model, load_model
from pipeline.models.base import FIELD_KEYS, FIELD_TAGS, INPUT_FIELDS, MANIFEST_NAME, build_input
from pipeline.models.weak_only import vote_matrix
from pipeline.records import LABELS

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "stance_tiny.jsonl"
SKLEARN_KINDS = ("tfidf_logreg", "tfidf_svm")
FAST_KINDS = ("majority", "weak_only", *SKLEARN_KINDS)
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def labels(rows) -> list[str]:
    return [row["label"] for row in rows]


def model_of(kind: str, params: dict | None = None, inputs: tuple[str, ...] = ("text",), seed: int = 7):
    return build_model(ModelConfig(name=kind, inputs=list(inputs), params=params or {}), seed)


def check_fit_predict_save_load(model, rows, labels, folder: Path, weights=None) -> np.ndarray:
    """Fit, predict, save, reload through the registry: same probabilities, no pickle on disk."""
    model.fit(rows, labels, weights=weights)
    proba = model.predict_proba(rows)
    assert proba.shape == (len(rows), len(LABELS))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(rows) == [LABELS[i] for i in proba.argmax(axis=1)]
    model.save(folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    assert manifest["kind"] == model.kind and manifest["labels"] == list(LABELS)
    assert manifest["inputs"] == list(model.inputs) and "python" in manifest["versions"]
    assert not [path for path in folder.rglob("*") if path.suffix in UNSAFE_SUFFIXES]
    reloaded = load_model(folder)
    assert type(reloaded) is type(model)
    np.testing.assert_allclose(reloaded.predict_proba(rows), proba, rtol=0, atol=1e-6)
    return proba


def accuracy(model, rows, labels) -> float:
    return float(np.mean([p == g for p, g in zip(model.predict(rows), labels)]))


def test_registry_has_every_kind_and_each_conf_file_validates():
    assert set(MODEL_KINDS) == {"majority", "weak_only", "tfidf_logreg", "tfidf_svm",
                                "embedding_logreg", "setfit", "finetune"}
    conf_files = sorted((REPO_ROOT / "conf" / "model").glob("*.yaml"))
    assert {path.stem for path in conf_files} == set(MODEL_KINDS)
    for path in conf_files:
        config = ModelConfig.model_validate(yaml.safe_load(path.read_text()))
        assert config.name == path.stem
        kind = MODEL_KINDS[config.name]
        # The conf file states the schema's defaults, so reading one tells the truth about the other.
        assert kind.validate_params(config.params) == kind.Params()


def test_importing_the_registry_does_not_import_torch():
    code = ("import sys, pipeline.models; "
            "print(sorted(m for m in ('torch', 'transformers', 'setfit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", sorted(MODEL_KINDS))
def test_unknown_params_key_is_an_error_naming_it(kind):
    with pytest.raises(PipelineError) as error:
        model_of(kind, {"learnig_rate": 0.1})
    assert error.value.field == "model.params.learnig_rate"
    assert "unknown key" in str(error.value)


def test_wrong_param_type_and_unknown_kind_are_errors():
    with pytest.raises(PipelineError) as error:
        model_of("tfidf_logreg", {"C": "strong"})
    assert error.value.field == "model.params.C"
    with pytest.raises(PipelineError) as error:
        model_of("tfidf_logreg", {"word_ngrams": [3, 1]})
    assert error.value.field == "model.params.word_ngrams"
    with pytest.raises(PipelineError, match="unknown model kind 'bert'") as error:
        model_of("bert")
    assert error.value.field == "model.name"


def test_input_builder_joins_configured_fields_quote_before_context():
    example = {"text": "We back it.", "sentence": "\"We back it,\" she said.", "speaker": "Anna Berg",
               "speaker_role": "mayor", "target": "the dam"}
    assert build_input(example, ["text"]) == "We back it."
    assert build_input(example, ["text", "context", "speaker", "speaker_role", "target"]) == (
        "[target] the dam [speaker] Anna Berg [role] mayor [quote] We back it. "
        "[context] \"We back it,\" she said.")
    assert build_input(example, ["speaker", "text"]) == "[speaker] Anna Berg [quote] We back it."
    # The exported model's table names the sentence `context`; missing values (None, NaN, blank) drop out.
    table_row = {"text": "No.", "context": "He said no.", "speaker": math.nan, "target": "  "}
    assert build_input(table_row, ["text", "context", "speaker", "target"]) == "[quote] No. [context] He said no."
    with pytest.raises(PipelineError, match="no quote text"):
        build_input({"text": None, "speaker": "X"}, ["text", "speaker"])


def test_votes_input_renders_each_functions_vote_abstains_left_out():
    example = {"text": "No.", "speaker": "Ned Price",
               "votes": {"speaker_prior": "oppose", "cue_support": None, "cue_oppose": "oppose"}}
    assert build_input(example, ["text", "votes"]) == "[votes] cue_oppose=oppose speaker_prior=oppose [quote] No."
    assert build_input(example, ["text", "speaker", "votes"]) == (
        "[speaker] Ned Price [votes] cue_oppose=oppose speaker_prior=oppose [quote] No.")
    # A table carries votes as JSON text; when every function abstains the field drops out.
    as_json = {"text": "No.", "votes": json.dumps(example["votes"])}
    assert build_input(as_json, ["text", "votes"]) == "[votes] cue_oppose=oppose speaker_prior=oppose [quote] No."
    assert build_input({"text": "No.", "votes": {"cue_oppose": None}}, ["text", "votes"]) == "[quote] No."
    assert build_input(example, ["text"]) == "No."
    with pytest.raises(PipelineError, match="no `votes`") as error:
        build_input({"text": "No."}, ["text", "votes"])
    assert error.value.field == "votes"
    with pytest.raises(PipelineError, match="unknown label 'against'") as error:
        build_input({"text": "No.", "votes": {"cue_oppose": "against"}}, ["text", "votes"])
    assert error.value.field == "votes.cue_oppose"


def test_ignored_votes_drop_out_of_the_model_string_and_survive_save_load(rows, labels, tmp_path):
    example = {"text": "No.", "votes": {"example_similarity": "support", "cue_oppose": "oppose"}}
    assert build_input(example, ["text", "votes"], ignored_votes=["example_similarity"]) == (
        "[votes] cue_oppose=oppose [quote] No.")
    model = build_model(ModelConfig(name="tfidf_logreg", inputs=["text", "votes"],
                                    ignore_votes_of=["example_similarity"]), seed=7).fit(rows, labels)
    assert not model.reads_votes_of("example_similarity") and model.reads_votes_of("cue_oppose")
    # Whatever the ignored function says, the prediction is the same.
    flipped = [{**row, "votes": {**row["votes"], "example_similarity": "neutral"}} for row in rows]
    np.testing.assert_array_equal(model.predict_proba(flipped), model.predict_proba(rows))
    reloaded = load_model(model.save(tmp_path / "ignoring"))
    assert reloaded.ignored_votes == ("example_similarity",)
    assert not reloaded.reads_votes_of("example_similarity")
    with pytest.raises(ValueError, match="ignore_votes_of"):
        ModelConfig(name="tfidf_logreg", inputs=["text", "votes"], ignore_votes_of=["no_such_function"])


def test_weak_only_reads_exactly_the_functions_it_was_fitted_on(rows, labels):
    functions = sorted(rows[0]["votes"])
    model = MODEL_KINDS["weak_only"].from_config({}, ("text",), 7, ignored_votes=[functions[0]]).fit(rows, labels)
    assert model.functions == functions[1:]
    assert [name for name in functions if model.reads_votes_of(name)] == functions[1:]
    assert not model.reads_votes_of("a_function_it_never_saw")


def test_input_fields_agree_across_builder_and_config_schema():
    assert set(FIELD_KEYS) == set(FIELD_TAGS) == set(INPUT_FIELDS)
    [field_literal] = get_args(ModelConfig.model_fields["inputs"].annotation)
    configurable = get_args(field_literal)
    assert set(configurable) == set(INPUT_FIELDS)


@pytest.mark.parametrize("kind, inputs, expected", [
    ("weak_only", ("text",), True),
    ("tfidf_logreg", ("text", "speaker", "votes"), True),
    ("tfidf_svm", ("text", "votes"), True),
    ("tfidf_logreg", ("text", "speaker"), False),
    ("majority", ("text",), False),
])
def test_needs_votes_is_answered_by_a_loaded_model(kind, inputs, expected, rows, labels, tmp_path):
    model = model_of(kind, inputs=inputs).fit(rows, labels)
    assert model.needs_votes is expected
    folder = model.save(tmp_path / kind)
    assert json.loads((folder / MANIFEST_NAME).read_text())["needs_votes"] is expected
    assert load_model(folder).needs_votes is expected


def test_a_model_reading_votes_learns_from_them_and_refuses_examples_without(rows, labels):
    model = model_of("tfidf_logreg", inputs=("text", "votes")).fit(rows, labels)
    assert accuracy(model, rows, labels) >= 0.95
    with pytest.raises(PipelineError, match="no `votes`"):
        model.predict_proba([{"text": rows[0]["text"]}])


def test_the_default_model_composes_and_reads_votes(rows, labels):
    params = validate_params(compose(REPO_ROOT / "conf"))
    model = build_model(params.model, params.seed)
    assert (model.kind, model.inputs) == ("tfidf_logreg", ("text", "speaker", "speaker_role", "votes"))
    assert model.needs_votes
    # Serving need not run the MiniLM encoder of example_similarity for it (bench/serve_load.py).
    assert model.ignored_votes == ("example_similarity",)
    assert accuracy(model.fit(rows, labels), rows, labels) >= 0.95


def test_model_strings_follow_the_configured_inputs(rows):
    model = model_of("tfidf_logreg", inputs=("text", "speaker_role", "target"))
    first = model.texts(rows[:1])[0]
    assert first == f"[target] {rows[0]['target']} [role] {rows[0]['speaker_role']} [quote] {rows[0]['text']}"
    with pytest.raises(PipelineError) as error:
        model_of("tfidf_logreg", inputs=("speaker",))
    assert error.value.field == "model.inputs"


@pytest.mark.parametrize("kind", FAST_KINDS)
def test_fast_kinds_fit_predict_save_load(kind, rows, labels, tmp_path):
    model = model_of(kind)
    check_fit_predict_save_load(model, rows, labels, tmp_path / kind)
    minimum = {"majority": 1 / 3, "weak_only": 0.85, "tfidf_logreg": 0.95, "tfidf_svm": 0.95}[kind]
    assert accuracy(model, rows, labels) >= minimum - 1e-9


@pytest.mark.parametrize("kind", SKLEARN_KINDS)
def test_sklearn_kinds_are_reproducible_and_seed_is_used(kind, rows, labels):
    first = model_of(kind, seed=3).fit(rows, labels).predict_proba(rows)
    again = model_of(kind, seed=3).fit(rows, labels).predict_proba(rows)
    assert np.array_equal(first, again)


def test_tfidf_models_generalise_to_unseen_wording(rows, labels):
    unseen = [{"text": "We strongly support and back this dam."},
              {"text": "We oppose this dam and will stop it."},
              {"text": "The meeting about the schedule is on Monday."}]
    for kind in SKLEARN_KINDS:
        assert model_of(kind).fit(rows, labels).predict(unseen) == ["support", "oppose", "neutral"]


def test_svm_calibration_survives_a_label_seen_once_and_a_missing_label(rows, labels):
    keep = [i for i, label in enumerate(labels) if label != "neutral"][:12] + [labels.index("neutral")]
    model = model_of("tfidf_svm").fit([rows[i] for i in keep], [labels[i] for i in keep])
    assert np.allclose(model.predict_proba(rows).sum(axis=1), 1.0)
    two_labels = [i for i, label in enumerate(labels) if label != "neutral"]
    proba = model_of("tfidf_svm").fit([rows[i] for i in two_labels],
                                      [labels[i] for i in two_labels]).predict_proba(rows)
    assert proba.shape == (len(rows), 3) and np.all(proba[:, LABELS.index("neutral")] == 0)


def test_bad_training_input_is_an_error(rows, labels):
    with pytest.raises(PipelineError, match="at least two labels"):
        model_of("tfidf_logreg").fit(rows[:5], ["support"] * 5)
    with pytest.raises(PipelineError, match="unknown label 'favor'"):
        model_of("majority").fit(rows[:2], ["favor", "oppose"])
    with pytest.raises(PipelineError, match="2 examples but 1 labels"):
        model_of("majority").fit(rows[:2], ["oppose"])
    with pytest.raises(PipelineError, match="weights"):
        model_of("majority").fit(rows[:2], labels[:2], weights=[1.0, -1.0])
    with pytest.raises(PipelineError, match="not fitted"):
        model_of("majority").predict_proba(rows)


def test_weights_scale_the_examples():
    examples = [{"text": "a"}, {"text": "b"}, {"text": "c"}]
    model = model_of("majority").fit(examples, ["support", "oppose", "oppose"], weights=[3.0, 1.0, 0.5])
    np.testing.assert_allclose(model.predict_proba(examples[:1])[0], [3 / 4.5, 1.5 / 4.5, 0.0])


def test_weak_only_matches_snorkel_and_needs_votes(rows, labels):
    from snorkel.labeling.model import LabelModel

    functions = sorted(rows[0]["votes"])
    matrix = vote_matrix(rows, functions)
    reference = LabelModel(cardinality=3, verbose=False)
    reference.fit(matrix, n_epochs=100, seed=1, progress_bar=False)
    ours = label_model_proba(matrix, LabelModelTables(reference.mu.detach().numpy(), np.asarray(reference.p)))
    np.testing.assert_allclose(ours, reference.predict_proba(matrix), atol=1e-6)
    model = model_of("weak_only").fit(rows, labels)
    abstained = {"text": "x", "votes": {name: None for name in functions}}
    assert model.predict([abstained]) == [model.params.default_label]
    with pytest.raises(PipelineError, match="no `votes`"):
        model.predict_proba([{"text": "x"}])
    with pytest.raises(PipelineError, match="at least 3 labeling functions"):
        model_of("weak_only").fit([{"text": "x", "votes": {"a": "support"}}] * 2, ["support", "oppose"])


def test_weak_only_is_the_label_stages_label_model(rows, labels):
    """Fitted on the same votes with the same settings, it labels every quote as the label stage does,
    ties and unvoted quotes included; the training labels do not change it."""
    functions = sorted(rows[0]["votes"])
    abstained = {"text": "x", "votes": {name: None for name in functions}}
    split = {"text": "y", "votes": {**abstained["votes"], functions[0]: "support", functions[1]: "oppose"}}
    examples = [*rows, abstained, split]
    labeling = LabelingConfig(functions=["cue_support"], seed=7)
    weak = combine_votes(vote_matrix(examples, functions), labeling)
    model = model_of("weak_only", {"epochs": labeling.label_model_epochs, "lr": labeling.label_model_lr,
                                   "default_label": labeling.default_label})
    model.fit(examples, [*labels, "oppose", "support"])
    assert model.predict(examples) == weak.labels
    assert weak.labels[-2] == labeling.default_label
    np.testing.assert_array_equal(model.predict_proba(examples), weak.probabilities)
    flipped = model_of("weak_only").fit(examples, ["support"] * len(examples))
    np.testing.assert_array_equal(flipped.predict_proba(examples), weak.probabilities)


def test_load_model_rejects_a_broken_folder(rows, labels, tmp_path):
    with pytest.raises(PipelineError, match="no manifest"):
        load_model(tmp_path)
    folder = model_of("majority").fit(rows, labels).save(tmp_path / "m")
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    (folder / MANIFEST_NAME).write_text(json.dumps({**manifest, "labels": ["oppose", "support", "neutral"]}))
    with pytest.raises(PipelineError, match="saved with labels") as error:
        load_model(folder)
    assert error.value.field == "labels"
    (folder / MANIFEST_NAME).write_text(json.dumps({**manifest, "kind": "bert"}))
    with pytest.raises(PipelineError, match="unknown model kind 'bert'") as error:
        load_model(folder)
    assert error.value.field == "kind"
    (folder / MANIFEST_NAME).write_text(json.dumps({**manifest, "kind": "tfidf_svm"}))
    with pytest.raises(PipelineError, match="model file missing"):
        load_model(folder)


@pytest.mark.slow
def test_embedding_logreg_with_minilm(rows, labels, tmp_path):
    model = model_of("embedding_logreg", {"batch_size": 16}, inputs=("text", "speaker"))
    check_fit_predict_save_load(model, rows, labels, tmp_path / "emb")
    assert (tmp_path / "emb" / "encoder" / "model.safetensors").is_file()
    assert accuracy(model, rows, labels) >= 0.9


@pytest.mark.slow
def test_embedding_head_with_ngram_features_reads_both_and_round_trips(rows, labels, tmp_path):
    plain = model_of("embedding_logreg", {"batch_size": 16, "ngram_features": False}).fit(rows, labels)
    model = model_of("embedding_logreg", {"batch_size": 16, "ngram_features": True, "embedding_weight": 2.0})
    check_fit_predict_save_load(model, rows, labels, tmp_path / "emb")
    assert (tmp_path / "emb" / "ngrams.skops").is_file()
    inputs = model.head_inputs(rows)
    vocabulary = sum(len(vectorizer.vocabulary_) for _, vectorizer in model.ngrams.transformer_list)
    assert inputs.shape == (len(rows), vocabulary + 384)
    np.testing.assert_allclose(inputs[:, vocabulary:].toarray(), 2.0 * plain.embed(rows), atol=1e-6)
    assert accuracy(model, rows, labels) >= 0.9


@pytest.mark.slow
def test_setfit_with_minilm(rows, labels, tmp_path):
    model = model_of("setfit", {"num_iterations": 1, "max_steps": 2, "batch_size": 8})
    check_fit_predict_save_load(model, rows, labels, tmp_path / "setfit")
    assert (tmp_path / "setfit" / "encoder" / "model.safetensors").is_file()
    assert accuracy(model, rows, labels) >= 0.8


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, rows) -> Path:
    """A 2-layer, 32-wide BERT with a word-level tokenizer trained on the fixture: no hub, seconds."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator([row["sentence"] for row in rows], trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[(token, tokenizer.token_to_id(token)) for token in ("[CLS]", "[SEP]")])
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]").save_pretrained(folder)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(folder)
    return folder


def test_finetune_with_a_tiny_local_bert(tiny_bert, rows, labels, tmp_path):
    params = {"model_path": str(tiny_bert), "epochs": 60.0, "batch_size": 8, "learning_rate": 3e-3,
              "max_length": 64}
    model = model_of("finetune", params, inputs=("text", "speaker_role"))
    check_fit_predict_save_load(model, rows, labels, tmp_path / "ft", weights=[0.5, 1.0] * 15)
    assert accuracy(model, rows, labels) >= 0.9
    config = json.loads((tmp_path / "ft" / "model" / "config.json").read_text())
    assert config["id2label"] == {str(i): label for i, label in enumerate(LABELS)}
    assert (tmp_path / "ft" / "model" / "model.safetensors").is_file()


def test_finetune_missing_model_path_is_an_error(rows, labels, tmp_path):
    with pytest.raises(PipelineError) as error:
        model_of("finetune", {"model_path": str(tmp_path / "nowhere")}).fit(rows, labels)
    assert error.value.field == "model.params.model_path"


def test_one_encoder_loader_serves_every_reader_and_names_its_setting(rows, labels, tmp_path):
    """Only pipeline/labeling/embeddings.py builds a SentenceTransformer; a missing folder names the
    setting it came from, for the labeling function and for the model kinds."""
    builders = [path.relative_to(REPO_ROOT).as_posix() for path in (REPO_ROOT / "pipeline").rglob("*.py")
                if "SentenceTransformer(" in path.read_text(encoding="utf-8")]
    assert builders == ["pipeline/labeling/embeddings.py"]
    for kind in ("embedding_logreg", "setfit"):
        with pytest.raises(PipelineError, match="model folder not found") as error:
            model_of(kind, {"model_path": str(tmp_path / "nowhere")}).fit(rows, labels)
        assert error.value.field == "model.params.model_path"
