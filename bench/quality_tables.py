"""The public sets of `python -m bench.stance_quality` (bench/stance_quality.yaml beside their corpus configs)
and the markdown tables it prints: one per set against its anchors, then one across the sets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bench import ROOT
from bench.quality_cells import Result
from pipeline.config import compose, validate_params

SETS_FILE = ROOT / "bench" / "stance_quality.yaml"


@dataclass(frozen=True)
class Benchmark:
    """One public set: its title, protocol (from the corpus config), the model inputs, and what to print beside it."""

    name: str
    title: str
    metric: str  # the corpus config's official metric: "f_avg" (printed x100, as published) or "macro_f1"
    per_target: bool
    inputs: tuple[str, ...]
    local_anchor: float
    anchors: str
    short: str
    note: str = ""
    caps: tuple[tuple[str, int], ...] = ()  # (training cost, most training rows)
    published_best: tuple[str, float] | None = None

    @property
    def scale(self) -> float:
        return 100.0 if self.metric == "f_avg" else 1.0

    @property
    def digits(self) -> int:
        return 2 if self.metric == "f_avg" else 3


def read_benchmarks() -> tuple[dict[str, Benchmark], dict[str, Any]]:
    """Every set of stance_quality.yaml, with its corpus config's protocol; and the file's rows and variants."""
    data = yaml.safe_load(SETS_FILE.read_text(encoding="utf-8"))
    benchmarks = {}
    for name, entry in data["sets"].items():
        labelled = validate_params(compose(ROOT / "conf", [f"corpus={name}"])).corpus.labelled
        best = entry.get("published_best")
        benchmarks[name] = Benchmark(
            name, entry["title"], labelled.metric, labelled.per_target, tuple(entry["inputs"]), entry["local_anchor"],
            entry["anchors"], entry["short"], entry.get("note", ""), tuple(entry.get("caps", {}).items()),
            None if best is None else (best[0], best[1]))
    return benchmarks, {"rows": data["rows"], "variants": data["variants"]}


def print_table(benchmark: Benchmark, results: list[Result], train_n: int, test_n: int, first_note: str = "",
                with_set_note: bool = False) -> None:
    """One set's table: every row against the local anchor, then the bounds and notes it ran under (`first_note`
    first, the set's own note last when `with_set_note`)."""
    metric, digits, anchor = ("F_avg" if benchmark.metric == "f_avg" else "macro-F1"), benchmark.digits, \
        benchmark.local_anchor
    print(f"### {benchmark.title}\n")
    print(f"`corpus={benchmark.name}`: {train_n:,} training rows, {test_n:,} test rows. "
          f"Anchors: {benchmark.anchors}.\n")
    print(f"| model | inputs | models | train n | **{metric}** | local TF-IDF anchor | vs anchor | "
          f"macro-F1 [95% CI] | accuracy | fit+predict s |")
    print("|---|---|---|---:|---:|---:|---:|---|---:|---:|")
    for r in results:
        print(f"| {r.name} | {', '.join(r.inputs)} | {r.models} | {r.train_n:,} | **{r.metric:.{digits}f}** | "
              f"{anchor:.{digits}f} | {r.metric - anchor:+.{digits}f} | {r.metrics['macro_f1']:.3f} "
              f"[{r.ci[0]:.3f}, {r.ci[1]:.3f}] | {r.metrics['accuracy']:.3f} | {r.fit_s:.0f} |")
    models = [r for r in results if r.name != "majority"]
    if models:
        reaches = [r for r in models if round(r.metric, digits) >= round(anchor, digits)]
        below = [f"{r.name} ({r.metric - anchor:+.{digits}f})" for r in models if r not in reaches]
        print(f"\nAt or above the local anchor: {', '.join(r.name for r in reaches) or 'none'}; "
              f"below it: {', '.join(below) or 'none'}.")
    notes = [note for note in [first_note] if note] + [f"{r.name}: {r.bound}" for r in results if r.bound]
    computed = sorted(r.computed for r in results if r.computed)
    if computed:
        notes.append(f"cells computed {computed[0]}" + (f" to {computed[-1]}" if computed[-1] != computed[0] else ""))
    if with_set_note and benchmark.note:
        notes.append(benchmark.note)
    if notes:
        print("\nBounds and notes: " + "; ".join(note.rstrip(".") for note in notes) + ".")
    print()


def print_summary(benchmarks: dict[str, Benchmark], results_by_set: dict[str, list[Result]]) -> None:
    """One table across the sets: each model's distance from its set's local anchor, then the best score here
    beside the best verified published one, so "which kinds hold up where" reads at a glance."""
    sets = [benchmarks[name] for name, results in results_by_set.items() if results]
    if len(sets) < 2:
        return
    names = list(dict.fromkeys(r.name for s in sets for r in results_by_set[s.name] if r.name != "majority"))
    print("### All sets against the local anchor\n")
    print("Each cell is the model's official metric minus the set's LinearSVC TF-IDF anchor (the `vs anchor` "
          "column above); † marks an anchor outside the model's bootstrap 95% interval (macro-F1 sets; there is no "
          "interval for F_avg); a blank cell was not run.\n")
    print("| model | " + " | ".join(s.short for s in sets) + " |")
    print("|---|" + "---:|" * len(sets))
    for model in names:
        cells = []
        for s in sets:
            row = next((r for r in results_by_set[s.name] if r.name == model), None)
            outside = row is not None and s.metric == "macro_f1" and not row.ci[0] <= s.local_anchor <= row.ci[1]
            cells.append("" if row is None else f"{row.metric - s.local_anchor:+.{s.digits}f}" + (" †" * outside))
        print(f"| {model} | " + " | ".join(cells) + " |")
    best_here, published = [], []
    for s in sets:
        best = max((r for r in results_by_set[s.name] if r.name != "majority"), key=lambda r: r.metric, default=None)
        best_here.append("" if best is None else f"{best.name} {best.metric:.{s.digits}f}")
        if s.published_best is None:
            published.append("none verified")
            continue
        figure = f"{s.published_best[0]} {s.published_best[1]:.{s.digits}f}"
        if best is not None:
            verdict = "beaten" if round(best.metric, s.digits) > s.published_best[1] else "not reached"
            figure += f" ({verdict}, {best.metric - s.published_best[1]:+.{s.digits}f})"
        published.append(figure)
    print("| best here | " + " | ".join(best_here) + " |")
    print("| best published | " + " | ".join(published) + " |")
    print()
