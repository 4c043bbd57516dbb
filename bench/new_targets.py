"""Speaker stance on referendums the rules were not written for: the development sets of ../shared/corpus_dev.

Each set (a folder with articles/, gold.json and target_notes.md) is run through the new-target workflow
in two configs: `camps` (conf/target/<set>.yaml: camps as organisations, no people) and `bare`
(conf/target/<set>_bare.yaml: description, sides, terms and examples only). The workflow's product is a
stance per speaker; it is scored against gold.json's speakers, each matched to the predicted speakers of
its article whose lower-cased name contains one of its `match` fragments (their quotes are pooled; a
gold speaker with no match counts as wrong). Figures: accuracy and macro-F1 with bootstrap 95% intervals,
over all speakers and without the borderline ones.

Rows are configuration steps, today's engine first (main before issue 24: its conf/labeling/weak.yaml,
read from git at BASELINE), then each part added on top, so each part's gain shows. Two attributions:
`extracted` (the real workflow: quotes and speakers as the extractor finds them) and, as a diagnostic,
`gold` (gold quotes given to gold speakers), which separates stance errors from extraction errors.

The workflow runs in-process (ingest -> extract -> weak labels -> pipeline/speakers.py per speaker);
scoring only reads the speaker rows it returns, the columns of the predict stage's speakers.csv.

    .venv/bin/python bench/new_targets.py                     # both sets, every step
    .venv/bin/python bench/new_targets.py --sets chile_constitution_2022 --steps 0 -1 --speakers
    .venv/bin/python bench/new_targets.py --quick             # smoke: one set, first and last step, 3 articles
"""
from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import ExtractConfig, Params, compose, validate_params  # noqa: E402
from pipeline.evaluate import bootstrap_interval  # noqa: E402
from pipeline.extract import extract_articles  # noqa: E402
from pipeline.extraction import load_nlp  # noqa: E402
from pipeline.ingest import ingest_files  # noqa: E402
from pipeline.label import weak_label  # noqa: E402
from pipeline.records import LABELS, Label, LabelledQuote, Quote, normalise_text  # noqa: E402
from pipeline.speakers import NEUTRAL_WEIGHT, speaker_stance  # noqa: E402

DEV = ROOT.parent / "shared" / "corpus_dev"
BASELINE = "54281eb"   # main before issue 24: "today's engine"
CONFIGS = {"camps": "{set}", "bare": "{set}_bare"}
MISSING = "missing"    # a gold speaker the workflow gave no quote to: wrong whatever the gold stance
BOOTSTRAP_SAMPLES = 1000


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


@dataclass(frozen=True)
class SpeakerRow:
    """One speaker's stance, as a row of the predict stage's speakers.csv (scope article or corpus)."""

    scope: str
    article_id: str | None
    speaker: str
    stance: Label
    quotes: int
    weights: dict[str, float]


@dataclass(frozen=True)
class Part:
    """One part of issue 24 as a change to today's configuration (`labeling` and `target` dicts, composed)."""

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
    Part("pooled", "+ pooled across articles", "each speaker's stance from their quotes in every article"),
)


@dataclass(frozen=True)
class Step:
    """A configuration of the workflow: today's engine plus the first `parts` of PARTS."""

    name: str
    parts: frozenset[str]

    @property
    def scope(self) -> str:
        return "corpus" if "pooled" in self.parts else "article"


STEPS: tuple[Step, ...] = (Step("today's engine", frozenset()),
                           *(Step(part.step, frozenset(p.name for p in PARTS[:i + 1])) for i, part in enumerate(PARTS)))


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


def target_params(target_id: str, step: Step) -> Params:
    """The project's configuration with this target, at this step."""
    composed = step_config(compose(ROOT / "conf", [f"target={target_id}"]), step.parts)
    return validate_params(composed, source=f"conf/ (target={target_id}, step {step.name!r})")


@functools.lru_cache(maxsize=8)
def extracted_quotes(articles_dir: Path, spacy_model: str) -> tuple[Quote, ...]:
    """Ingest and extract a folder of articles once per run (every step and config reads the same quotes)."""
    cfg = ExtractConfig(spacy_model=spacy_model)
    articles = ingest_files(sorted(articles_dir.glob("*.txt"))).articles
    return tuple(quote for _, quotes in extract_articles(articles, load_nlp(cfg.spacy_model), cfg) for quote in quotes)


def gold_attributed(quotes: Sequence[Quote], gold: Gold) -> list[Quote]:
    """Gold quotes given to gold speakers: each gold fragment takes the extracted quote that contains it
    (its text, sentence, cue and role), else stands as a quote of its own; only its speaker changes."""
    attributed = []
    for quote in gold.quotes:
        if quote.speaker == "unknown":
            continue
        fragment = normalise_text(quote.text)
        found = next((q for q in quotes if q.article_id == quote.article_id and fragment in normalise_text(q.text)),
                     None)
        if found is None:
            found = next((q for q in quotes if q.article_id == quote.article_id
                          and fragment in normalise_text(q.sentence)), None)
        if found is None:
            attributed.append(Quote(id=f"gold-{len(attributed)}", article_id=quote.article_id, text=quote.text,
                                    kind="direct", cue=None, speaker=quote.speaker, speaker_mention=quote.speaker,
                                    speaker_role=None, start=0, end=len(quote.text), sentence=quote.text))
        else:
            attributed.append(found.model_copy(update={"id": f"gold-{len(attributed)}", "speaker": quote.speaker,
                                                       "speaker_mention": quote.speaker}))
    return attributed


def speaker_rows(labelled: Sequence[LabelledQuote], neutral_weight: float = NEUTRAL_WEIGHT) -> list[SpeakerRow]:
    """Each speaker's stance per article and across the corpus (pipeline/speakers.py's rule)."""
    groups: dict[tuple[str, str | None, str], list[tuple[Label, float]]] = {}
    for quote in labelled:
        if quote.speaker:
            groups.setdefault(("article", quote.article_id, quote.speaker), []).append((quote.label, quote.confidence))
            groups.setdefault(("corpus", None, quote.speaker), []).append((quote.label, quote.confidence))
    rows = []
    for (scope, article_id, speaker), pairs in groups.items():
        stance = speaker_stance(pairs, neutral_weight)
        rows.append(SpeakerRow(scope, article_id, speaker, stance.label, stance.quotes, stance.weights))
    return rows


def predicted_stance(gold: GoldSpeaker, rows: Sequence[SpeakerRow], neutral_weight: float,
                     scope: str = "article") -> str:
    """The stance of the predicted speakers of the gold speaker's article that match one of its fragments:
    their rows of that article, or (scope corpus) their rows across the corpus."""
    matched = [row for row in rows if row.scope == "article" and row.article_id == gold.article_id
               and any(fragment in row.speaker.lower() for fragment in gold.match)]
    if not matched:
        return MISSING
    if scope == "corpus":
        names = {row.speaker for row in matched}
        matched = [row for row in rows if row.scope == "corpus" and row.speaker in names]
    pairs = [(label, row.weights[label]) for row in matched for label in LABELS]
    return speaker_stance(pairs, neutral_weight).label


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return float(np.mean(np.asarray(gold) == np.asarray(predicted)))


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in gold or prediction (as classification_metrics), in numpy:
    sklearn's per-call overhead made the bootstrap the slowest part of the bench."""
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    scores = []
    for label in LABELS:
        in_gold, in_predicted = gold == label, predicted == label
        if in_gold.any() or in_predicted.any():
            both = np.sum(in_gold & in_predicted)
            scores.append(2 * both / (in_gold.sum() + in_predicted.sum()))
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
    """One (set, attribution, step, config) run: the gold speakers and what the workflow said of them."""

    speakers: list[GoldSpeaker]
    predicted: list[str]
    scores: dict[str, Score] = field(default_factory=dict)

    def __post_init__(self):
        clear = [i for i, s in enumerate(self.speakers) if not s.borderline]
        self.scores = {"all": score([s.stance for s in self.speakers], self.predicted),
                       "clear": score([self.speakers[i].stance for i in clear], [self.predicted[i] for i in clear])}


@dataclass(frozen=True)
class Run:
    """One (set, config, step, attribution): the gold speakers and the weak-labelled quotes, scored under
    any neutral discount."""

    speakers: list[GoldSpeaker]
    labelled: list[LabelledQuote]
    scope: str

    def result(self, neutral_weight: float = NEUTRAL_WEIGHT) -> Result:
        rows = speaker_rows(self.labelled, neutral_weight)
        return Result(self.speakers, [predicted_stance(s, rows, neutral_weight, self.scope) for s in self.speakers])


def run_step(folder: Path, config: str, step: Step, attribution: str, gold: Gold, quick: bool) -> Run:
    params = target_params(CONFIGS[config].format(set=folder.name), step)
    quotes = extracted_quotes(folder / "articles", params.extract.spacy_model)
    if quick:
        kept = sorted({quote.article_id for quote in quotes})[:3]
        quotes = tuple(quote for quote in quotes if quote.article_id in kept)
        gold = Gold([s for s in gold.speakers if s.article_id in kept], [q for q in gold.quotes if q.article_id in kept])
    if attribution == "gold":
        quotes = gold_attributed(quotes, gold)
    return Run(gold.speakers, weak_label(quotes, params.target, params.labeling)[0], step.scope)


def cell(result: Result, group: str) -> str:
    s = result.scores[group]
    low, high = s.macro_f1_interval
    return f"{s.macro_f1:.2f} [{low:.2f}, {high:.2f}] · {s.accuracy:.2f}"


def table(results: dict[tuple[str, str], Result], steps: Sequence[Step]) -> str:
    """Rows: steps; columns: each config, all speakers and without borderline ones."""
    header = ("| step | " + " | ".join(f"{config}: all | {config}: no borderline" for config in CONFIGS) + " |\n"
              + "|---" * (1 + 2 * len(CONFIGS)) + "|\n")
    lines = ["| " + step.name + " | " + " | ".join(f"{cell(results[step.name, config], 'all')} | "
                                                  f"{cell(results[step.name, config], 'clear')}"
                                                  for config in CONFIGS) + " |" for step in steps]
    return header + "\n".join(lines) + "\n"


def speaker_lines(result: Result) -> str:
    return "\n".join(f"    {s.article_id[:2]} {s.speaker:<32} gold {s.stance:<8}{' (borderline)' if s.borderline else '':<13}"
                     f" -> {p}{'' if p == s.stance else '   x'}" for s, p in zip(result.speakers, result.predicted))


DISCOUNTS = (0.25, 0.5, 0.75, 1.0, 1.5)
SEED_TARGET = "south_ossetia_referendum"


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


def reference_speakers() -> list[Reference]:
    """../shared/corpus's indexed speakers (bench/label_agreement.py) and the seed's, each weak-labelled with
    all functions and with the text alone (no speaker or camp priors): where the neutral discount is chosen."""
    import label_agreement

    references = []
    index = label_agreement.CORPUS / "INDEX.md"
    nlp = load_nlp(ExtractConfig().spacy_model)
    if index.is_file():
        indexed, targets = label_agreement.parse_index(index.read_text(encoding="utf-8")), label_agreement.read_targets()
        for number in sorted({stance.number for stance in indexed} & set(targets)):
            params = label_agreement.target_params(targets[number])
            article = [stance for stance in indexed if stance.number == number]
            _, labelled = label_agreement.compare_article(label_agreement.CORPUS / article[0].file, article, params,
                                                          nlp, NEUTRAL_WEIGHT)
            references += [Reference(f"corpus, {variant}", stance.stance,
                                     [(q.label, q.confidence) for q in label_agreement.quotes_of(stance.speaker,
                                                                                                 labelled[variant], params)])
                           for stance in article for variant in label_agreement.VARIANTS]
    params = label_agreement.target_params(SEED_TARGET)
    seed = ROOT / params.paths.annotations / f"{SEED_TARGET}.csv"
    quotes = list(extracted_quotes(ROOT / params.corpus.path, params.extract.spacy_model))
    for variant, cfg in zip(label_agreement.VARIANTS, (params, label_agreement.without_priors(params))):
        labelled = weak_label(quotes, cfg.target, cfg.labeling)[0]
        references += [Reference(f"seed, {variant}", stance,
                                 [(q.label, q.confidence) for q in label_agreement.quotes_of(speaker, labelled, params)])
                       for speaker, stance in seed_stances(seed).items()]
    return references


def discount_table(references: Sequence[Reference], runs: dict[tuple[str, str], Run], step: Step) -> str:
    """Speaker agreement per neutral discount: on ../shared/corpus and the seed (where it is chosen), and the
    development sets' macro-F1 at the last step (extracted attribution) as the check."""
    sources = list(dict.fromkeys(reference.source for reference in references))
    header = ("| neutral discount | " + " | ".join(sources) + " | " + " | ".join(f"{name}: {config}" for name, config in runs)
              + " |\n" + "|---" * (1 + len(sources) + len(runs)) + "|\n")
    lines = []
    for weight in DISCOUNTS:
        agreed = [sum(1 for r in references if r.source == source and r.quotes
                      and speaker_stance(r.quotes, weight).label == r.stance) for source in sources]
        totals = [sum(1 for r in references if r.source == source) for source in sources]
        dev = [f"{run.result(weight).scores['all'].macro_f1:.2f}" for run in runs.values()]
        mark = " (pipeline/speakers.py)" if weight == NEUTRAL_WEIGHT else ""
        lines.append(f"| {weight}{mark} | " + " | ".join(f"{a}/{t}" for a, t in zip(agreed, totals)) + " | "
                     + " | ".join(dev) + " |")
    return (f"### The neutral discount (pipeline/speakers.py NEUTRAL_WEIGHT)\n\nA side beats neutral unless neutral "
            f"outweighs it more than 1/discount times. Chosen on ../shared/corpus and the seed (speakers agreeing with "
            f"INDEX.md and with the seed's gold quotes); the development sets (macro-F1, step '{step.name}', extracted "
            f"attribution) are the check, not the choice.\n\n" + header + "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV, help="folder of development sets (default ../shared/corpus_dev)")
    parser.add_argument("--sets", nargs="*", help="set folder names (default: every folder with a gold.json)")
    parser.add_argument("--steps", nargs="*", type=int, help="step indices (default all; -1 is the last)")
    parser.add_argument("--attributions", nargs="*", default=["extracted", "gold"], choices=["extracted", "gold"])
    parser.add_argument("--speakers", action="store_true", help="also print every gold speaker's prediction")
    parser.add_argument("--quick", action="store_true", help="smoke: one set, first and last step, 3 articles")
    args = parser.parse_args(argv)
    folders = sorted(path.parent for path in args.dev.glob("*/gold.json") if not args.sets or path.parent.name in args.sets)
    if not folders:
        print(f"no development sets (*/gold.json) under {args.dev}", file=sys.stderr)
        return 2
    steps = [STEPS[i] for i in args.steps] if args.steps else list(STEPS)
    if args.quick:
        folders, steps = folders[:1], [STEPS[0], STEPS[-1]]
    print("Speaker stance on the development sets: macro-F1 [bootstrap 95% interval] · accuracy, per gold speaker "
          "entry (one per person and article; a speaker the workflow gave no quote is wrong). Each step adds one "
          f"part to the one above it:\n\n- today's engine: main at {BASELINE} (its conf/labeling/weak.yaml, "
          "targets without sides, neutral discount 0.5)")
    for part in PARTS:
        print(f"- {part.step}: {part.what}")
    print()
    last_runs = {}
    for folder in folders:
        gold = read_gold(folder)
        for attribution in args.attributions:
            runs = {(step.name, config): run_step(folder, config, step, attribution, gold, args.quick)
                    for step in steps for config in CONFIGS}
            results = {key: run.result() for key, run in runs.items()}
            last_runs.update({(folder.name, config): runs[steps[-1].name, config]
                              for config in CONFIGS if attribution == "extracted"})
            any_result = next(iter(results.values()))
            n_all, n_clear = any_result.scores["all"].n, any_result.scores["clear"].n
            print(f"### {folder.name}: {attribution} attribution ({n_all} speakers, {n_clear} not borderline)\n")
            print(table(results, steps))
            if args.speakers:
                for (step_name, config), result in results.items():
                    print(f"  [{step_name} / {config}]\n{speaker_lines(result)}")
                print()
    if not args.quick and last_runs:
        print(discount_table(reference_speakers(), last_runs, steps[-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
