"""Speaker stance on referendums the rules were not written for: the development sets of ../shared/corpus_dev.

Each set (a folder with articles/, gold.json and target_notes.md) is run in two configs: `camps`
(conf/target/<set>.yaml: camps as organisations, no people) and `bare` (conf/target/<set>_bare.yaml:
description, sides, terms and examples only). The product is a stance per speaker, the rows of the predict
stage's reports/speakers.csv; each gold speaker of gold.json is matched to the predicted speakers of its
article whose lower-cased name contains one of its `match` fragments (their weights are pooled; a gold
speaker with no match counts as wrong). Figures: macro-F1 and accuracy with bootstrap 95% intervals, over
all speakers and without the borderline ones.

Rows are configuration steps: today's engine first (main before issue 24: its conf/labeling/weak.yaml read
from git at BASELINE, targets without sides), then each part of PARTS added on top, so each part's gain shows.

Runners, one table each:
- `workflow`: the new-target workflow as a user runs it, `dvc exp run -S target=ID -S corpus.path=DIR` in a
  copy of the project (the step's configuration written into the copy's conf/), scored on the
  reports/speakers.csv it writes: quotes extracted, weak-labelled, a classifier trained on the weak labels,
  and each quote answered by its weak label where a labeling function voted, else by the classifier
  (predict.corpus_stance, docs/decisions.md); the configuration steps change conf/ only, so every row runs
  today's code;
- `weak labels` (diagnostic, in-process): the weak labels themselves, aggregated per speaker by
  pipeline/speakers.py, with extracted attribution and with gold attribution (gold quotes given to gold
  speakers), which separates stance errors from extraction errors.
A last table checks the neutral discount of pipeline/speakers.py: chosen on ../shared/corpus and the seed,
the development sets shown beside it.

    .venv/bin/python -m bench.new_targets                     # both sets, every step, both runners
    .venv/bin/python -m bench.new_targets --runners weak      # the in-process diagnostic only (minutes)
    .venv/bin/python -m bench.new_targets --sets chile_constitution_2022 --steps 0 -1 --speakers
    .venv/bin/python -m bench.new_targets --quick             # smoke: one set, 3 articles, 2 steps, weak labels
"""
from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench import ROOT
from pipeline.catalog import SPEAKERS, Catalog
from pipeline.config import ExtractConfig, Params, PathsConfig, compose, validate_params
from pipeline.extract import extract_articles
from pipeline.extraction import load_nlp
from pipeline.ingest import ingest_files
from pipeline.labeling.label_model import weak_label
from pipeline.metrics import bootstrap_interval
from pipeline.records import LABELS, Label, LabelledQuote, Quote, normalise_text
from pipeline.speakers import NEUTRAL_WEIGHT, speaker_key, speaker_rows, speaker_stance

DEV = ROOT.parent / "shared" / "corpus_dev"
BASELINE = "54281eb"   # main before issue 24: "today's engine"
CONFIGS = {"camps": "{set}", "bare": "{set}_bare"}
MISSING = "missing"    # a gold speaker the workflow gave no quote to: wrong whatever the gold stance
BOOTSTRAP_SAMPLES = 1000
DISCOUNTS = (0.25, 0.5, 0.75, 1.0, 1.5)
SEED_TARGET = "south_ossetia_referendum"


@dataclass(frozen=True)
class GoldSpeaker:
    """One speaker entry of gold.json (a person is listed once per article)."""

    article_id: str
    speaker: str
    match: tuple[str, ...]
    stance: Label
    borderline: bool


@dataclass(frozen=True)
class GoldQuote:
    article_id: str
    text: str
    speaker: str


@dataclass(frozen=True)
class Gold:
    speakers: list[GoldSpeaker]
    quotes: list[GoldQuote]

    def of_articles(self, article_ids: set[str]) -> Gold:
        return Gold([s for s in self.speakers if s.article_id in article_ids],
                    [q for q in self.quotes if q.article_id in article_ids])


def read_gold(folder: Path) -> Gold:
    """gold.json's speakers and quotes, keyed by the article id ingest gives the file (its stem)."""
    data = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    speakers, quotes = [], []
    for article in data["articles"].values():
        article_id = Path(article["file"]).stem
        speakers += [GoldSpeaker(article_id, s["speaker"], tuple(s["match"]), s["stance"], s["borderline"])
                     for s in article["speakers"]]
        quotes += [GoldQuote(article_id, q["text"], q["speaker"]) for q in article["quotes"]]
    return Gold(speakers, quotes)


# --- configuration steps ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One part of issue 24, as what it changes in today's configuration."""

    name: str
    step: str                           # the row's name
    what: str
    functions: tuple[str, ...] = ()     # labeling functions this part adds


PARTS: tuple[Part, ...] = (
    Part("camps", "+ camps from the text",
         "who the article says the speaker is ('spokeswoman for the No campaign', 'pro-repeal group', 'returning "
         "officer') matched to the ballot's side names (target.sides) and to roles that take no side "
         "(labeling.neutral_roles), beside the configured camps"),
    Part("grammar", "+ stance grammar", "stance verbs, nouns and votes for a side over the parse, with negation, "
                                        "hedges and conditions (pipeline/labeling/grammar.py)", ("stance_grammar",)),
    Part("lexicon", "+ plain-stance lexicon", "general cues of plain stance language ('in favour of', 'vote against', "
                                              "'goes too far') and of polling and procedure"),
    Part("pooled", "+ pooled across articles", "each speaker's stance from their quotes in every article (the "
                                               "corpus rows of speakers.csv)"),
)


@dataclass(frozen=True)
class Step:
    """A configuration: today's engine plus some parts of PARTS."""

    name: str
    parts: frozenset[str]

    @property
    def scope(self) -> str:
        """Which rows of speakers.csv answer for a speaker in an article."""
        return "corpus" if "pooled" in self.parts else "article"

    @property
    def configuration(self) -> frozenset[str]:
        """The parts that change the labeling (pooling changes only which rows are read)."""
        return self.parts - {"pooled"}


def present_parts(functions: Sequence[str]) -> list[Part]:
    """The parts this project has: a part that adds labeling functions the configuration lacks is left out."""
    return [part for part in PARTS if set(part.functions) <= set(functions)]


def build_steps(parts: Sequence[Part]) -> list[Step]:
    """Today's engine, then one step per part, each adding its part to the one before."""
    return [Step("today's engine", frozenset()),
            *(Step(part.step, frozenset(p.name for p in parts[:i + 1])) for i, part in enumerate(parts))]


def git_file(commit: str, path: str) -> str:
    """A file as it was at `commit` (today's engine is read from git, never kept as a copy)."""
    return subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


@functools.lru_cache(maxsize=1)
def todays_labeling() -> dict:
    return yaml.safe_load(git_file(BASELINE, "conf/labeling/weak.yaml"))


def step_config(composed: dict, parts: frozenset[str]) -> dict:
    """The composed configuration with the parts not in `parts` taken back to today's."""
    today, labeling, target = todays_labeling(), dict(composed["labeling"]), dict(composed["target"])
    added = {function: part.name for part in PARTS for function in part.functions}
    unknown = sorted(set(labeling["functions"]) - set(today["functions"]) - set(added))
    if unknown:
        raise SystemExit(f"labeling functions {unknown} belong to no part of bench/new_targets.py PARTS: add one")
    labeling["functions"] = [name for name in labeling["functions"] if name in today["functions"]
                             or added.get(name) in parts]
    if "lexicon" not in parts:
        labeling["lexicon"] = today["lexicon"]
    if "camps" not in parts:
        labeling["neutral_roles"], target["sides"] = [], {}
    return {**composed, "labeling": labeling, "target": target}


def step_params(target_id: str, step: Step) -> Params:
    """The project's configuration with this target, at this step."""
    composed = step_config(compose(ROOT / "conf", [f"target={target_id}"]), step.configuration)
    return validate_params(composed, source=f"conf/ (target={target_id}, step {step.name!r})")


# --- runners: quotes -> speakers.csv rows ---------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def extracted_quotes(articles_dir: Path, spacy_model: str) -> tuple[Quote, ...]:
    """Ingest and extract a folder of articles once per run (every step and config reads the same quotes)."""
    cfg = ExtractConfig(spacy_model=spacy_model)
    articles = ingest_files(sorted(articles_dir.glob("*.txt"))).articles
    return tuple(quote for _, quotes in extract_articles(articles, load_nlp(cfg.spacy_model), cfg) for quote in quotes)


def gold_attributed(quotes: Sequence[Quote], gold: Gold) -> list[Quote]:
    """Gold quotes given to gold speakers. A gold fragment inside an extracted quote takes that quote (its
    text, sentence, cue); otherwise it stands alone in the sentence that holds it. Its role is what the
    extractor found for a speaker of the same name in the article, if anything."""
    roles = {(q.article_id, speaker_key(q.speaker)): q.speaker_role for q in quotes if q.speaker and q.speaker_role}
    attributed = []
    for gold_quote in gold.quotes:
        if gold_quote.speaker == "unknown":
            continue
        fragment = normalise_text(gold_quote.text)
        article = [q for q in quotes if q.article_id == gold_quote.article_id]
        found = next((q for q in article if fragment in normalise_text(q.text)), None)
        role = roles.get((gold_quote.article_id, speaker_key(gold_quote.speaker)))
        update = {"id": f"gold-{len(attributed)}", "speaker": gold_quote.speaker,
                  "speaker_mention": gold_quote.speaker, "speaker_role": role}
        if found is None:
            sentence = next((q.sentence for q in article if fragment in normalise_text(q.sentence)), gold_quote.text)
            found = Quote(id="", article_id=gold_quote.article_id, text=gold_quote.text, kind="indirect", cue=None,
                          speaker=None, speaker_mention=None, speaker_role=None, start=0, end=len(gold_quote.text),
                          sentence=sentence)
        attributed.append(found.model_copy(update=update))
    return attributed


def weak_prediction_rows(labelled: Sequence[LabelledQuote]) -> list[dict[str, Any]]:
    """Weak-labelled quotes as the predict stage's prediction rows (the label's confidence as its score)."""
    return [{"article_id": q.article_id, "id": q.id, "speaker": q.speaker, "speaker_role": q.speaker_role,
             "text": q.text, "kind": q.kind, "label": q.label, "scores": {q.label: q.confidence}} for q in labelled]


def weak_label_rows(quotes: Sequence[Quote], params: Params) -> list[dict[str, Any]]:
    """The diagnostic runner: weak labels, then speakers.csv's rows by pipeline/speakers.py."""
    labelled = weak_label(quotes, params.target, params.labeling)[0]
    return speaker_rows(weak_prediction_rows(labelled), params.target)


class Workflow:
    """The new-target workflow in a copy of the project (made once): each run writes the step's labeling and
    target configuration into the copy's conf/, runs `dvc exp run -S target=ID -S corpus.path=DIR` and
    returns the rows of reports/speakers.csv."""

    def __init__(self, scratch: Path):
        import scale

        self.project = scale.project_copy(scratch / "project")
        (self.project / ".venv").symlink_to(scale.VENV)
        for key, value in (("user.name", "bench"), ("user.email", "bench@localhost")):
            subprocess.run(["git", "config", key, value], cwd=self.project, check=True)
        self.env = {key: value for key, value in os.environ.items() if key not in ("DVC_ROOT", "MLFLOW_TRACKING_URI")}

    def rows(self, params: Params, articles: Path) -> list[dict[str, Any]]:
        dumped = params.model_dump(mode="json")
        for path, data in ((f"conf/labeling/{self.labeling_name()}.yaml", dumped["labeling"]),
                           (f"conf/target/{params.target.id}.yaml", dumped["target"])):
            dumped_yaml = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            (self.project / path).write_text(dumped_yaml, encoding="utf-8")
        command = [".venv/bin/dvc", "exp", "run", "-S", f"target={params.target.id}", "-S", f"corpus.path={articles}"]
        done = subprocess.run(command, cwd=self.project, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return Catalog(PathsConfig(), self.project).read(SPEAKERS)

    def labeling_name(self) -> str:
        """The labeling group's default in the copy's conf/config.yaml (`weak`)."""
        defaults = yaml.safe_load((self.project / "conf" / "config.yaml").read_text(encoding="utf-8"))["defaults"]
        return next(item["labeling"] for item in defaults if isinstance(item, dict) and "labeling" in item)


# --- scoring: speakers.csv rows against gold.json -------------------------------------------------------------

def weights(row: dict[str, Any]) -> dict[str, float]:
    return {label: float(row[f"weight_{label}"]) for label in LABELS}


def predicted_stance(gold: GoldSpeaker, rows: Sequence[dict[str, Any]], neutral_weight: float = NEUTRAL_WEIGHT,
                     scope: str = "article") -> str:
    """The stance of the predicted speakers of the gold speaker's article whose name holds one of its
    fragments: their rows of that article, or (scope corpus) their rows across the corpus; weights pooled."""
    matched = [row for row in rows if row["scope"] == "article" and row["article_id"] == gold.article_id
               and any(fragment in row["speaker"].lower() for fragment in gold.match)]
    if not matched:
        return MISSING
    if scope == "corpus":
        names = {speaker_key(row["speaker"]) for row in matched}
        matched = [row for row in rows if row["scope"] == "corpus" and speaker_key(row["speaker"]) in names]
    pairs = [(label, weight) for row in matched for label, weight in weights(row).items()]
    return speaker_stance(pairs, neutral_weight).label


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return float(np.mean(np.asarray(gold) == np.asarray(predicted)))


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in gold or prediction (as pipeline.evaluate's classification_metrics),
    in numpy: sklearn's per-call overhead made the bootstrap the slowest part of the bench."""
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    scores = []
    for label in LABELS:
        in_gold, in_predicted = gold == label, predicted == label
        if in_gold.any() or in_predicted.any():
            scores.append(2 * np.sum(in_gold & in_predicted) / (in_gold.sum() + in_predicted.sum()))
    return float(np.mean(scores)) if scores else 0.0


@dataclass(frozen=True)
class Score:
    n: int
    missing: int
    accuracy: float
    accuracy_interval: tuple[float, float]
    macro_f1: float
    macro_f1_interval: tuple[float, float]


def score(gold: Sequence[str], predicted: Sequence[str], seed: int = 0) -> Score:
    """Accuracy and macro-F1 (over the labels that occur) with bootstrap 95% intervals."""
    return Score(len(gold), sum(p == MISSING for p in predicted),
                 accuracy(gold, predicted), bootstrap_interval(gold, predicted, accuracy, BOOTSTRAP_SAMPLES, seed),
                 macro_f1(gold, predicted), bootstrap_interval(gold, predicted, macro_f1, BOOTSTRAP_SAMPLES, seed))


@dataclass
class Result:
    """The gold speakers and what one run said of them, scored over all and over the clear (not borderline)."""

    speakers: list[GoldSpeaker]
    predicted: list[str]
    scores: dict[str, Score] = field(default_factory=dict)

    def __post_init__(self):
        clear = [i for i, s in enumerate(self.speakers) if not s.borderline]
        self.scores = {"all": score([s.stance for s in self.speakers], self.predicted),
                       "clear": score([self.speakers[i].stance for i in clear], [self.predicted[i] for i in clear])}


@dataclass(frozen=True)
class Run:
    """One run's speakers.csv rows, scored against the gold speakers under any neutral discount."""

    speakers: list[GoldSpeaker]
    rows: list[dict[str, Any]]
    scope: str

    def result(self, neutral_weight: float = NEUTRAL_WEIGHT) -> Result:
        return Result(self.speakers,
                      [predicted_stance(s, self.rows, neutral_weight, self.scope) for s in self.speakers])


# --- the neutral discount ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """A speaker whose stance is known outside the development sets, with their weak-labelled quotes."""

    source: str
    stance: Label
    quotes: list[tuple[Label, float]]


def seed_stances(path: Path) -> dict[str, Label]:
    """The seed's speakers from its gold quotes: the one side their quotes take, else neutral."""
    taken: dict[str, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            taken.setdefault(row["speaker"], set()).add(row["label"])
    return {speaker: (next(iter(labels - {"neutral"})) if len(labels - {"neutral"}) == 1 else "neutral")
            for speaker, labels in taken.items()}


def reference_groups(corpus: Path, index: Path, targets: dict[int, str], scratch: Path) -> list[tuple[str, Path, list]]:
    """../shared/corpus's indexed articles grouped by target, each group's files linked into a folder of its own
    (a workflow run takes one target and one folder): (target id, folder, the group's indexed speakers)."""
    import label_agreement

    indexed = label_agreement.parse_index(index.read_text(encoding="utf-8"))
    groups = []
    for target_id in sorted({targets[s.number] for s in indexed if s.number in targets}):
        speakers = [s for s in indexed if targets.get(s.number) == target_id]
        folder = scratch / "reference" / target_id
        folder.mkdir(parents=True, exist_ok=True)
        for name in {s.file for s in speakers}:
            (folder / name).symlink_to(corpus / name)
        groups.append((target_id, folder, speakers))
    return groups


def reference_speakers(scratch: Path, workflow: Workflow | None) -> list[Reference]:
    """Speakers whose stance is known outside the development sets: ../shared/corpus's (INDEX.md, through
    bench/label_agreement.py) and the seed's (its gold quotes), each run with all labeling functions and with
    the text alone (no speaker or camp priors), by the weak labels and, given one, by the workflow; every
    speaker's weights pooled over the speakers.csv rows of their article whose name or configured actor is theirs.
    This is where the neutral discount is chosen."""
    import label_agreement as agreement

    model = ExtractConfig().spacy_model
    runners = {"weak labels": lambda params, folder: weak_label_rows(extracted_quotes(folder, model), params)}
    if workflow is not None:
        runners["workflow"] = workflow.rows
    seed_params = agreement.target_params(SEED_TARGET)
    seed = (SEED_TARGET, ROOT / seed_params.corpus.path,
            [(None, speaker, stance) for speaker, stance in
             seed_stances(ROOT / seed_params.paths.annotations / f"{SEED_TARGET}.csv").items()])
    groups = [("seed", *seed)]
    if (agreement.CORPUS / "INDEX.md").is_file():
        groups += [("corpus", target_id, folder, [(Path(s.file).stem, s.speaker, s.stance) for s in speakers])
                   for target_id, folder, speakers in reference_groups(agreement.CORPUS, agreement.CORPUS / "INDEX.md",
                                                                       agreement.read_targets(), scratch)]
    references = []
    for source, target_id, folder, speakers in groups:
        params = agreement.target_params(target_id)
        for variant, cfg in zip(agreement.VARIANTS, (params, agreement.without_priors(params))):
            for runner, rows_of in runners.items():
                rows = [row for row in rows_of(cfg, folder) if row["scope"] == "article"]
                for article_id, speaker, stance in speakers:
                    matched = [row for row in rows if article_id in (None, row["article_id"])
                               and same_speaker(speaker, row["speaker"], params)]
                    references.append(Reference(f"{source}: {runner}, {variant}", stance,
                                                [pair for row in matched for pair in weights(row).items()]))
    return references


def same_speaker(name: str, predicted: str, params: Params) -> bool:
    """bench/label_agreement.py's rule: the same normalised name, or the same configured actor."""
    from label_agreement import normalise_name

    from pipeline.labeling.functions import find_actor

    actor = find_actor(params.target, name)
    return normalise_name(name) == normalise_name(predicted) or (
        actor is not None and find_actor(params.target, predicted) == actor)


def discount_table(references: Sequence[Reference], checks: dict[str, Run]) -> str:
    """Per neutral discount: speakers agreeing on ../shared/corpus and the seed (where it is chosen), and the
    development sets' macro-F1 (the check, not the choice)."""
    sources = list(dict.fromkeys(reference.source for reference in references))
    header = ("| | " + " | ".join(str(weight) + (" (now)" if weight == NEUTRAL_WEIGHT else "") for weight in DISCOUNTS)
              + " |\n" + "|---" * (1 + len(DISCOUNTS)) + "|\n")
    lines = []
    for source in sources:
        group = [r for r in references if r.source == source]
        agreed = [sum(1 for r in group if r.quotes and speaker_stance(r.quotes, weight).label == r.stance)
                  for weight in DISCOUNTS]
        lines.append(f"| {source} | " + " | ".join(f"{a}/{len(group)}" for a in agreed) + " |")
    for name, run in checks.items():
        lines.append(f"| check: {name}, macro-F1 | "
                     + " | ".join(f"{run.result(weight).scores['all'].macro_f1:.2f}" for weight in DISCOUNTS) + " |")
    return ("### The neutral discount (pipeline/speakers.py NEUTRAL_WEIGHT)\n\nA side beats neutral unless neutral "
            "outweighs it more than 1/discount times. Chosen on ../shared/corpus and the seed (speakers agreeing "
            "with INDEX.md and with the seed's gold quotes, by the weak labels and by the workflow's classifier); "
            "the development sets' macro-F1 at the last step are the check, not the choice.\n\n"
            + header + "\n".join(lines) + "\n")


# --- report ------------------------------------------------------------------------------------------------------

def cell(result: Result, group: str) -> str:
    s = result.scores[group]
    low, high = s.macro_f1_interval
    return f"{s.macro_f1:.2f} [{low:.2f}, {high:.2f}] · {s.accuracy:.2f}"


def table(title: str, results: dict[tuple[str, str], Result], steps: Sequence[Step]) -> str:
    """Rows: steps; columns: each config, all speakers and without the borderline ones."""
    some = next(iter(results.values())).scores
    header = (f"### {title} ({some['all'].n} speakers, {some['clear'].n} not borderline)\n\n"
              "| step | " + " | ".join(f"{config}: all | {config}: no borderline" for config in CONFIGS) + " |\n"
              + "|---" * (1 + 2 * len(CONFIGS)) + "|\n")
    lines = ["| " + step.name + " | " + " | ".join(f"{cell(results[step.name, config], 'all')} | "
                                                  f"{cell(results[step.name, config], 'clear')}"
                                                  for config in CONFIGS) + " |" for step in steps]
    return header + "\n".join(lines) + "\n"


def speaker_lines(result: Result) -> str:
    return "\n".join(f"    {s.article_id[:2]} {s.speaker:<32} gold {s.stance:<8}"
                     f"{' (borderline)' if s.borderline else '':<13} -> {p}{'' if p == s.stance else '   x'}"
                     for s, p in zip(result.speakers, result.predicted))


RUNNERS = ("workflow", "weak")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV,
                        help="folder of development sets (default ../shared/corpus_dev)")
    parser.add_argument("--sets", nargs="*", help="set folder names (default: every folder with a gold.json)")
    parser.add_argument("--steps", nargs="*", type=int, help="step indices (default all; -1 is the last)")
    parser.add_argument("--runners", nargs="*", default=list(RUNNERS), choices=RUNNERS)
    parser.add_argument("--sections", nargs="*", default=["steps", "discount"], choices=["steps", "discount"],
                        help="the tables per development set and step, and the neutral discount's")
    parser.add_argument("--speakers", action="store_true", help="also print every gold speaker's prediction")
    parser.add_argument("--quick", action="store_true", help="smoke: one set, 3 articles, 2 steps, weak labels")
    args = parser.parse_args(argv)
    folders = sorted(path.parent for path in args.dev.glob("*/gold.json")
                     if not args.sets or path.parent.name in args.sets)
    if not folders:
        print(f"no development sets (*/gold.json) under {args.dev}", file=sys.stderr)
        return 2
    parts = present_parts(compose(ROOT / "conf")["labeling"]["functions"])
    all_steps = build_steps(parts)
    steps = [all_steps[i] for i in args.steps] if args.steps else all_steps
    runners = ["weak"] if args.quick else args.runners
    if args.quick:
        folders, steps = folders[:1], [steps[0], steps[-1]]
    print("Speaker stance on the development sets: macro-F1 [bootstrap 95% interval] · accuracy, per gold speaker "
          "entry (one per person and article; a speaker given no quote is wrong). Each step adds one part to the "
          f"one above it:\n\n- today's engine: main at {BASELINE} (its conf/labeling/weak.yaml, targets without "
          "sides)")
    for part in parts:
        print(f"- {part.step}: {part.what}")
    print()
    checks: dict[str, Run] = {}
    with tempfile.TemporaryDirectory(prefix="new-targets-") as scratch:
        workflow = Workflow(Path(scratch)) if "workflow" in runners else None
        for folder in folders if "steps" in args.sections else []:
            gold = read_gold(folder)
            quotes = extracted_quotes(folder / "articles", ExtractConfig().spacy_model)
            if args.quick:
                kept = set(sorted({quote.article_id for quote in quotes})[:3])
                quotes, gold = tuple(q for q in quotes if q.article_id in kept), gold.of_articles(kept)
            tables: dict[str, dict[tuple[str, str], Run]] = {}
            rows: dict[tuple[str, str, frozenset[str]], list[dict[str, Any]]] = {}  # steps that differ by pooling only
            for step in steps:
                for config in CONFIGS:
                    params = step_params(CONFIGS[config].format(set=folder.name), step)
                    runs = {"workflow": lambda p=params, f=folder: workflow.rows(p, f / "articles")} if workflow else {}
                    if "weak" in runners:
                        runs["weak labels, extracted attribution"] = lambda q=quotes, p=params: weak_label_rows(q, p)
                        runs["weak labels, gold attribution"] = (
                            lambda q=quotes, g=gold, p=params: weak_label_rows(gold_attributed(q, g), p))
                    for title, run in runs.items():
                        key = (title, config, step.configuration)
                        rows[key] = rows[key] if key in rows else run()
                        tables.setdefault(title, {})[step.name, config] = Run(gold.speakers, rows[key], step.scope)
            for title, runs in tables.items():
                results = {key: run.result() for key, run in runs.items()}
                name = ("the workflow (dvc exp run, reports/speakers.csv)" if title == "workflow"
                        else f"{title} (diagnostic)")
                print(table(f"{folder.name}: {name}", results, steps))
                if args.speakers:
                    for (step_name, config), result in results.items():
                        print(f"  [{step_name} / {config}]\n{speaker_lines(result)}")
                    print()
            checks.update({f"{folder.name} {config}, {title.split(',')[0]}": tables[title][steps[-1].name, config]
                           for title in ("workflow", "weak labels, extracted attribution") if title in tables
                           for config in CONFIGS})
        if "discount" in args.sections and not args.quick:
            print(discount_table(reference_speakers(Path(scratch), workflow), checks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
