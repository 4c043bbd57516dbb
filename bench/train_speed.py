"""Fit and predict time of every model kind, per 1,000 examples, against the majority baseline.

Data: SemEval-2016 Task 6 tweets read from ../shared (never copied), stances mapped to
support/oppose/neutral, repeated with small perturbations (a dropped word, two swapped words)
up to each size, so repeats are not identical strings. weak_only gets synthetic votes from five
noisy "functions" (70% accurate where they vote, 40% coverage each), since the real labeling
functions are written for the news target, not for tweets.

Each kind runs with its conf/model/<kind>.yaml defaults. Transformer kinds run on fewer
examples (their time per 1,000 is scaled linearly and includes loading the encoder).

    CI=true .venv/bin/python -m bench.train_speed            # all kinds, default sizes
    .venv/bin/python -m bench.train_speed --kinds majority tfidf_svm --sizes 1000 4000
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import random
import sys
import time
from pathlib import Path

from bench import ROOT
from pipeline import protocol
from pipeline.models import MODEL_KINDS, build_model
from pipeline.records import LABELS

SEMEVAL = ROOT.parent / "shared" / "data" / "semeval2016_task6"
STANCE = {"FAVOR": "support", "AGAINST": "oppose", "NONE": "neutral"}
DEFAULT_SIZES = {"majority": [1000, 4000], "weak_only": [1000, 4000], "tfidf_logreg": [1000, 4000],
                 "tfidf_svm": [1000, 4000], "embedding_logreg": [1000], "setfit": [100], "finetune": [200]}
FUNCTIONS, ACCURACY, COVERAGE = 5, 0.7, 0.4
PREDICT_SIZE = 1000
QUICK_FIT_S = 5.0


def read_semeval(folder: Path) -> list[dict]:
    """Trial + training tweets as examples (text, target, label); '#SemST' stripped."""
    rows = []
    for name in ("trialdata-all-annotations.txt", "trainingdata-all-annotations.txt"):
        # The training file is not valid UTF-8 (see SOURCE.md): latin-1 reads every byte.
        with (folder / name).open(encoding="latin-1", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                text = row["Tweet"].replace("#SemST", "").strip()
                rows.append({"text": text, "target": row["Target"], "label": STANCE[row["Stance"]]})
    return rows


def perturb(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 3:
        del words[rng.randrange(len(words))]
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def synthetic_votes(label: str, rng: random.Random) -> dict[str, str | None]:
    votes = {}
    for number in range(FUNCTIONS):
        vote = None
        if rng.random() < COVERAGE:
            vote = label if rng.random() < ACCURACY else rng.choice([other for other in LABELS if other != label])
        votes[f"function_{number}"] = vote
    return votes


def examples_of_size(base: list[dict], size: int, seed: int) -> list[dict]:
    """`size` examples: the real rows first, then perturbed repeats; each with synthetic votes."""
    rng = random.Random(seed)
    out = []
    for index in range(size):
        row = base[index % len(base)]
        text = row["text"] if index < len(base) else perturb(row["text"], rng)
        out.append({**row, "text": text, "votes": synthetic_votes(row["label"], rng)})
    rng.shuffle(out)
    return out


def import_libraries() -> None:
    """Import what the kinds import lazily, so the first kind timed does not pay for the imports."""
    import sentence_transformers  # noqa: F401
    import setfit  # noqa: F401
    import sklearn.calibration  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import snorkel.labeling.model  # noqa: F401
    import transformers  # noqa: F401


def measure(kind: str, examples: list[dict], predict_examples: list[dict], seed: int) -> tuple[float, float]:
    """Seconds to fit on `examples` and to predict `predict_examples`."""
    model = build_model(protocol.model_config(ROOT / "conf", kind), seed)
    with contextlib.redirect_stdout(sys.stderr):  # trainers print their logs; keep stdout for the table
        start = time.perf_counter()
        model.fit(examples, [row["label"] for row in examples])
        fitted = time.perf_counter()
        model.predict_proba(predict_examples)
        return fitted - start, time.perf_counter() - fitted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SEMEVAL, help="the semeval2016_task6 folder")
    parser.add_argument("--kinds", nargs="+", choices=sorted(MODEL_KINDS), default=list(DEFAULT_SIZES))
    parser.add_argument("--sizes", nargs="+", type=int, help="training sizes for every kind (default: per kind)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke test: majority and tfidf_logreg on 200 examples")
    args = parser.parse_args(argv)
    if args.quick:
        args.kinds, args.sizes = ["majority", "tfidf_logreg"], [200]
    if not args.data.is_dir():
        print(f"data folder not found: {args.data}", file=sys.stderr)
        return 2
    base = read_semeval(args.data)
    import_libraries()
    predict_examples = examples_of_size(base, PREDICT_SIZE, args.seed + 1)
    kinds = ["majority"] + [kind for kind in args.kinds if kind != "majority"]  # the baseline, same run
    sizes = {kind: args.sizes or DEFAULT_SIZES[kind] for kind in kinds}
    sizes["majority"] = sorted({size for kind in kinds for size in sizes[kind]})  # a baseline at every size
    results = []
    for kind in kinds:
        for size in sizes[kind]:
            examples = examples_of_size(base, size, args.seed)
            fit_s, predict_s = measure(kind, examples, predict_examples, args.seed)
            if fit_s < QUICK_FIT_S:  # the best of three keeps timer and machine noise out of quick fits
                fit_s, predict_s = min([(fit_s, predict_s)] + [measure(kind, examples, predict_examples, args.seed)
                                                               for _ in range(2)])
            results.append((kind, size, fit_s, fit_s * 1000 / size, predict_s * 1000 / PREDICT_SIZE))
            print(f"  {kind} n={size}: fit {fit_s:.2f} s", file=sys.stderr, flush=True)
    baseline = {size: per_1000 for kind, size, _, per_1000, _ in results if kind == "majority"}
    print(f"\n{len(base)} real tweets; fit time per 1,000 training examples, predict time per 1,000 examples")
    print(f"{'kind':<18}{'n':>6}{'fit s':>10}{'fit s/1k':>11}{'x majority':>13}{'predict s/1k':>14}")
    for kind, size, fit_s, per_1000, predict_per_1000 in results:
        ratio = per_1000 / baseline[size]
        print(f"{kind:<18}{size:>6}{fit_s:>10.3f}{per_1000:>11.3f}{ratio:>13,.0f}{predict_per_1000:>14.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
