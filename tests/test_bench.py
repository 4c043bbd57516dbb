"""Benchmark scripts: their arithmetic, their dataset configs, and a smoke run of each on a tiny slice.

No timing thresholds: the figures are the report's (docs/benchmarks.md), the tests only check that
every script runs and prints its table, and that the numbers it prints are computed right.
"""
from __future__ import annotations

import importlib
import itertools
import json
import os
import subprocess
import sys
import types

import pytest

from helpers import REPO_ROOT

BENCH = REPO_ROOT / "bench"


def bench_module(name: str):
    return importlib.import_module(f"bench.{name}")


def smoke(*argv: str, timeout: int = 300) -> str:
    """Run a bench script (`python -m bench.<name> ...`) from the project root; it must exit 0. Returns stdout."""
    done = subprocess.run([sys.executable, "-m", *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "CI": "true", "HF_HUB_OFFLINE": "1",
                               "HF_DATASETS_OFFLINE": "1"})
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def quality_args(*argv: str):
    quality = bench_module("stance_quality")
    return quality, quality.parse_args(list(argv))


def fits_in_two_seconds(monkeypatch, labels=None) -> list:
    """Every fit returns the gold labels (or `labels`) and "takes" 2 s whatever the load on the machine; the
    (config, per_target) of each fit is recorded."""
    from pipeline import protocol

    calls = []

    def guess(config, train, test, seed, per_target=False):
        calls.append((config, per_target))
        return [labels or row["label"] for row in test]

    clock = itertools.count(0.0, 2.0)
    monkeypatch.setattr(protocol, "fit_predict", guess)
    monkeypatch.setattr(protocol, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(bench_module("stance_quality"), "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(bench_module("stance_quality"), "bootstrap_macro_f1", lambda gold, guess, n, seed: (1.0, 1.0))
    return calls


def rows_of(targets: tuple[str, ...], n: int = 30) -> list[dict]:
    return [{"id": str(i), "target": targets[i % len(targets)], "label": ("support", "oppose", "neutral")[i % 3],
             "text": "words"} for i in range(n)]


def test_the_sets_file_names_every_corpus_it_scores_and_takes_metric_and_protocol_from_there():
    benchmarks = bench_module("quality_tables").read_benchmarks()[0]
    assert list(benchmarks) == ["semeval2016_task6", "vast", "gwsd", "catalonia_ca", "catalonia_es"]
    semeval = benchmarks["semeval2016_task6"]
    assert (semeval.metric, semeval.per_target, semeval.scale, semeval.digits) == ("f_avg", True, 100.0, 2)
    gwsd = benchmarks["gwsd"]
    assert (gwsd.metric, gwsd.per_target, gwsd.digits) == ("macro_f1", False, 3)
    assert dict(benchmarks["vast"].caps) == {"encoding": 2000, "fine_tuning": 4000}
    assert semeval.anchors.endswith("here 68.62; per-target majority 65.22")  # folded YAML lines join with a space


def test_a_tuned_cells_key_leaves_out_the_params_its_grid_sets():
    from pipeline.config import ModelConfig

    cells = bench_module("quality_cells")
    rows = rows_of(("t",), 6)
    grid = {"ngram_features": [False, True], "C": [1.0, 4.0]}

    def key(params, tuned=True):
        config = ModelConfig(name="embedding_logreg", params=params)
        return cells.cell_key("gwsd", "embedding_logreg_tuned", config, False, rows, rows, 0,
                              *((grid, 0.2) if tuned else ()))

    saved = key({"C": 1.0, "ngram_features": False, "normalize": True})
    assert saved == key({"C": 4.0, "ngram_features": True, "normalize": True})  # a default the grid overrides
    assert saved != key({"C": 1.0, "ngram_features": False, "normalize": False})
    assert key({"C": 1.0}, tuned=False) != key({"C": 4.0}, tuned=False)


def test_a_written_tuned_cell_drops_its_dev_checkpoint_and_reports_the_points_time(monkeypatch, tmp_path):
    quality, args = quality_args("--sets", "gwsd")
    fits_in_two_seconds(monkeypatch)
    cache = bench_module("quality_cells").CellCache(tmp_path)
    rows = rows_of(("t",))
    result = quality.run_cell(args.benchmarks["gwsd"], "tfidf_svm_tuned", rows, rows, args, cache)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["gwsd.tfidf_svm_tuned.json"]
    # all six points tie, so the first is refitted; tuning = the six points' 2 s each
    assert "; tuning 12 s): refitted with class_weight=balanced C=0.5" in result.bound
    assert result.fit_s == 2.0  # the refit, timed apart from the tuning
    again = quality.run_cell(args.benchmarks["gwsd"], "tfidf_svm_tuned", rows, rows, args, cache)
    assert (again.bound, again.computed) == (result.bound, result.computed)  # read back, not refitted


def test_dev_scores_are_resumed_only_by_the_cell_that_saved_them(tmp_path):
    cells = bench_module("quality_cells")
    cache, key = cells.CellCache(tmp_path), {"set": "gwsd", "name": "tfidf_svm_tuned", "rows": "abc", "grid": {}}
    cache.save_dev_scores(key, {'{"C": 1.0}': {"score": 0.5, "seconds": 2.0}})
    assert cache.dev_scores(key) == {'{"C": 1.0}': {"score": 0.5, "seconds": 2.0}}
    assert cache.dev_scores({**key, "rows": "other rows"}) == {}  # another cell's: every point is fitted again
    assert cells.CellCache(None).dev_scores(key) == {}


def test_on_semeval_every_kind_but_finetune_fits_per_target_and_finetune_one_target_aware_model(monkeypatch):
    quality, args = quality_args()
    calls = fits_in_two_seconds(monkeypatch)
    rows, semeval = rows_of(("a", "b"), 12), args.benchmarks["semeval2016_task6"]
    cache = bench_module("quality_cells").CellCache(None)
    for kind in ("tfidf_svm", "embedding_logreg", "setfit", "finetune"):
        result = quality.run_cell(semeval, kind, rows, rows, args, cache)
        assert result.models == ("one" if kind == "finetune" else "one per target (2)")
        assert result.metric == 100.0  # F_avg on the published scale
    inputs = {config.name: (tuple(config.inputs), per_target) for config, per_target in calls}
    assert inputs["tfidf_svm"] == inputs["embedding_logreg"] == inputs["setfit"] == (("text",), True)
    assert inputs["finetune"] == (("target", "text"), True)  # the registry fits it once: it reads the target


def test_a_row_states_its_cpu_bounds_but_not_one_its_grid_sets(monkeypatch):
    from pipeline.models.finetune import FinetuneModel

    quality, args = quality_args("--cap", "fine_tuning=10")
    fits_in_two_seconds(monkeypatch)
    rows, gwsd = rows_of(("t",)), args.benchmarks["gwsd"]
    cache = bench_module("quality_cells").CellCache(None)
    assert quality.run_cell(gwsd, "finetune", rows, rows, args, cache).bound == (
        "a stratified sample of at most 10 training examples, 3 epoch(s)")
    assert quality.run_cell(gwsd, "setfit", rows, rows, args, cache).train_n == 10
    uncapped = quality.parse_args([])
    assert "3 epoch(s)" in quality.run_cell(gwsd, "finetune_tuned", rows, rows, uncapped, cache).bound
    monkeypatch.setattr(FinetuneModel, "tuning_grid", {"epochs": [3.0, 6.0]})
    assert "epoch(s)" not in quality.run_cell(gwsd, "finetune_tuned", rows, rows, uncapped, cache).bound


def test_summary_puts_each_model_against_its_sets_anchor_and_the_best_here_against_the_published_best(capsys):
    tables = bench_module("quality_tables")
    benchmarks = tables.read_benchmarks()[0]

    def row(name, metric, ci):
        return tables.Result(name, ["text"], "one", 10, metric, {"macro_f1": metric, "accuracy": 0.5}, ci, 1.0)

    tables.print_summary(benchmarks, {
        "semeval2016_task6": [row("majority", 65.0, (0.4, 0.5)), row("tfidf_svm", 69.5, (0.6, 0.7))],
        "vast": [row("tfidf_svm", 0.300, (0.28, 0.32)), row("finetune", 0.641, (0.615, 0.663))],
        "gwsd": [],  # nothing run: no column
    })
    lines = capsys.readouterr().out.splitlines()
    assert "| model | SemEval F_avg | VAST |" in lines
    # SemEval anchor 68.62 (no interval for F_avg, so no mark); VAST anchor 0.314 lies inside [0.28, 0.32] only.
    assert "| tfidf_svm | +0.88 | -0.014 |" in lines
    assert "| finetune |  | +0.327 † |" in lines
    assert not any(line.startswith("| majority") for line in lines)
    assert "| best here | tfidf_svm 69.50 | finetune 0.641 |" in lines
    assert ("| best published | organisers' SVM 68.98 (beaten, +0.52) | TATA 0.771 (not reached, -0.130) |"
            in lines)


def test_summary_is_left_out_for_a_single_set(capsys):
    tables = bench_module("quality_tables")
    result = tables.Result("tfidf_svm", ["text"], "one", 10, 0.6, {"macro_f1": 0.6, "accuracy": 0.6}, (0.5, 0.7), 1)
    tables.print_summary(tables.read_benchmarks()[0], {"gwsd": [result]})
    assert capsys.readouterr().out == ""


def test_scale_writes_distinct_copies_that_ingest_keeps(tmp_path):
    from pipeline.files import find_article_files
    from pipeline.ingest import ingest_files

    scale = bench_module("scale")
    scale.write_articles(tmp_path / "corpus", [("a", "Headline\n\nBody one."), ("b", "Other\n\nBody two.")], 5)
    articles = ingest_files(find_article_files(tmp_path / "corpus", ["txt"])).articles
    assert len(articles) == 5 and len({article.sha256 for article in articles}) == 5


def test_scale_large_sizes_resume_from_their_checkpoint_and_are_then_read_back(tmp_path, monkeypatch):
    """A stopped 100x run loses at most the segment it was in: the next run extracts only the rest,
    and the finished size's row equals the sum of its segments."""
    from pipeline.extraction import load_nlp

    scale = bench_module("scale")
    base = [("a", 'Plan\n\n"We will vote," Anatoly Bibilov said.'), ("b", "Other\n\nNobody spoke at all.")]
    nlp, checkpoints = load_nlp(scale.ExtractConfig().spacy_model), tmp_path / "checkpoints"
    fraction = 2.5  # 5 articles: 3 quoting "a" and 2 silent "b"
    extracted = []
    import pipeline.extract

    def counting(articles, nlp_, cfg):
        extracted.extend(article.id for article in articles)
        return real_stage(articles, nlp_, cfg)

    real_stage = pipeline.extract.extract_articles
    monkeypatch.setattr(pipeline.extract, "extract_articles", counting)
    row, note = scale.bench_extract_segmented(tmp_path / "c1", base, fraction, 1, nlp, checkpoints, 2)
    assert row.articles == 5 and row.quotes == 3 and note == "" and len(extracted) == 2 + 5  # 1x baseline first
    assert "x the s per article of the 1x articles timed first in the same run(s)" in row.source
    saved = json.loads((checkpoints / "extract_2.5x_np1.json").read_text())
    assert [(part["start"], part["end"]) for part in saved["segments"]] == [(0, 2), (2, 4), (4, 5)]
    assert row.extract_s == pytest.approx(sum(part["seconds"] for part in saved["segments"]))
    baseline = saved["baseline"][0]["seconds"] / saved["baseline"][0]["articles"]
    assert row.vs_same_run_1x == pytest.approx(row.extract_s / 5 / baseline)

    saved["segments"] = saved["segments"][:1]  # as if stopped during the second segment
    (checkpoints / "extract_2.5x_np1.json").write_text(json.dumps(saved))
    assert scale.row_from_checkpoint(fraction, saved)[1].startswith("2.5x (5 articles, n_process 1) is unfinished: 2 ")
    extracted.clear()
    row, _ = scale.bench_extract_segmented(tmp_path / "c2", base, fraction, 1, nlp, checkpoints, 2)
    assert len(extracted) == 2 + 3 and row.quotes == 3 and "3 segment(s) over 2 run(s)" in row.source
    assert len(json.loads((checkpoints / "extract_2.5x_np1.json").read_text())["baseline"]) == 2

    extracted.clear()
    again, _ = scale.bench_extract_segmented(tmp_path / "c3", base, fraction, 1, nlp, checkpoints, 2)
    assert extracted == [] and again == row  # finished: read back, not re-measured

    monkeypatch.setattr(scale, "extraction_code_hash", lambda: "other code")
    row, _ = scale.bench_extract_segmented(tmp_path / "c4", base, fraction, 1, nlp, checkpoints, 5)
    assert len(extracted) == 2 + 5 and "1 segment(s) over 1 run(s)" in row.source  # other code: measured again


@pytest.mark.slow
def test_scale_smoke(shared):
    out = smoke("bench.scale", "--quick", timeout=1200)  # the engines part starts a two-node Ray cluster
    assert "### Ingest and extract vs corpus size" in out and "| tfidf_logreg | 200 |" in out
    assert "![growth with corpus and training size](" in out
    engines = out.split("### Extract on the local engine and on Ray")[1]
    assert "| Ray, 2 workers on 2 nodes |" in engines and "| yes |" in engines and "| NO |" not in engines


def test_train_speed_smoke(shared):
    out = smoke("bench.train_speed", "--quick")
    assert "tfidf_logreg" in out and "majority" in out


def test_extract_speed_smoke(shared):
    out = smoke("bench.extract_speed", "--quick")
    assert "PolNeAR dev: 3 articles" in out and "ours" in out
    assert "bare spaCy nlp.pipe" in out and "Where the time goes" in out


@pytest.mark.slow
def test_predict_overhead_smoke(pipeline_project, shared):
    out = smoke("bench.predict_overhead", "--quick", "--model", str(pipeline_project / "models" / "stance"))
    assert "exported pyfunc" in out


def test_report_assembles_machine_commands_and_failures(tmp_path):
    report = bench_module("report")
    scripts = [report.Script("stance_quality", "Quality", markdown=True), report.Script("train_speed", "Train")]
    saved = {"stance_quality": {"command": ".venv/bin/python -m bench.stance_quality", "started": "now",
                                "seconds": 3.0, "returncode": 0, "stdout": "| a | b |\n", "quick": False},
             "train_speed": {"command": ".venv/bin/python -m bench.train_speed", "started": "now", "seconds": 1.0,
                             "returncode": 1, "stdout": "kind n\n", "quick": True}}
    text = report.assemble(scripts + [report.Script("serve_load", "Serve")], saved)
    assert "## Machine" in text and "cores" in text and "Python" in text and "torch" in text
    assert "Reproduce: `.venv/bin/python -m bench.stance_quality`" in text and "| a | b |" in text
    assert "```\nkind n\n```" in text and "exited with code 1" in text and "quick smoke run" in text
    assert "Not run yet: `.venv/bin/python -m bench.report --only serve_load`" in text


def test_report_lists_every_bench_script():
    report = bench_module("report")
    names = [script.name for script in report.scripts_present()]
    scripts = {path.stem for path in BENCH.glob("*.py") if "\ndef main(" in path.read_text()} - {"report"}
    assert set(names) == scripts and names[0] == "stance_quality" and "polnear" not in names


def test_report_quick_run_writes_the_markdown_elsewhere(tmp_path, shared):
    out = tmp_path / "bench.md"
    done = subprocess.run([sys.executable, "-m", "bench.report", "--quick", "--only", "stance_quality",
                           "--saved", str(tmp_path), "--output", str(out)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    saved = json.loads((tmp_path / "stance_quality.json").read_text())
    assert saved["quick"] and saved["returncode"] == 0
    text = out.read_text()
    assert "quick smoke run" in text and "| tfidf_svm | text | one | 120 |" in text and "QUICK MODE" in text
    assert "| tfidf_svm_tuned | text | one | 120 |" in text and "tfidf_svm_tuned: dev-tuned on 20% of train (" in text
    assert "At or above the local anchor: " in text and "below it: " in text  # majority is not listed
    assert "majority (" not in text.split("below it: ")[1].split("\n")[0]


def test_report_args_override_one_script():
    report = bench_module("report")
    scripts = [report.Script("stance_quality", "Quality"), report.Script("scale", "Scale", args=("--skip", "repro"))]
    changed = report.with_args(scripts, ["stance_quality=--from-cache --sets gwsd"])
    assert report.command(changed[0], quick=False) == ["-m", "bench.stance_quality", "--from-cache", "--sets", "gwsd"]
    assert changed[1] == scripts[1]


def test_quality_from_cache_fits_nothing(tmp_path, shared):
    out = smoke("bench.stance_quality", "--from-cache", "--cache", str(tmp_path), "--sets", "gwsd")
    assert "Not run here (CPU time): majority, tfidf_svm, tfidf_svm_anchor, embedding_logreg" in out
    assert not list(tmp_path.iterdir())


def test_scale_extract_table_compares_each_n_process_with_its_smallest_size_and_with_one_process(capsys):
    scale = bench_module("scale")
    rows = [scale.ExtractRow(0.01, 1, 8, 0.0, 2.0, 100), scale.ExtractRow(0.01, 2, 8, 0.0, 1.0, 100),
            scale.ExtractRow(1.0, 1, 800, 0.0, 400.0, 9000), scale.ExtractRow(1.0, 2, 800, 0.0, 250.0, 9001)]
    scale.print_extract_table(rows, repeats=3)
    lines = capsys.readouterr().out.splitlines()
    # 1x with 2 processes: 0.3125 s/article, 1.25x its own smallest size, 1.6x faster than 1 process at 1x.
    assert "| 1 | 2 | 800 | 9,001 | 0.00 | 250.0 | 3.20 | 2.50 | 1.00 | 1.60 |" in lines
    assert "| 0.01 | 2 | 8 | 100 | 0.00 | 1.0 | 8.00 | 1.00 | 0.40 | 2.00 |" in lines  # 0.125 / 0.3125 s
    assert any("QUOTE COUNTS DIFFER between n_process values at 800 articles" in line for line in lines)
    assert any("Not run: 10x (8,400 articles, about 44 min" in line for line in lines)
    checkpointed = scale.ExtractRow(100.0, 2, 80000, 0.0, 20000.0, 900000, "100x: in segments", 0.9)
    scale.print_extract_table(rows[2:] + [scale.ExtractRow(10.0, 2, 8000, 0.0, 2500.0, 90000), checkpointed],
                              repeats=3)
    out = capsys.readouterr().out
    assert "| 10 | 2 | 8,000 | 90,000 | 0.00 | 2500.0 | 3.20 | 1.00 | 1.00 |  |" in out
    # Measured in another run: its growth is against the 1x articles timed in that run, not against this run's 1x.
    assert "| 100 | 2 | 80,000 | 900,000 | 0.00 | 20000.0 | 4.00 | 0.80 | 0.90 |  |" in out
    assert "Sizes beyond 1x ran with n_process 2 only" in out and "100x: in segments" in out


def test_scale_predict_beyond_1x_is_said_to_repeat_quotes_and_the_per_worker_rate_is_taken_from_new_text():
    scale = bench_module("scale")

    def row(fraction, setup, quotes, seconds, cpu):
        return scale.EngineRow("predict", fraction, setup, quotes, quotes, seconds, True,
                               {"stage process": cpu, "ray workers": 0.0, "ray daemons": 0.0})

    new_text = [row(1.0, "local", 1000, 12.0, 12.0), row(1.0, "Ray, 1 worker", 1000, 10.0, 11.0)]
    assert scale.repeated_quotes_note(new_text) == ""
    repeated = [row(10.0, "local", 10000, 12.0, 12.0), row(10.0, "Ray, 1 worker", 10000, 20.0, 22.0)]
    note = scale.repeated_quotes_note(new_text + repeated)
    assert "comes back 10 times" in note and "12.0 ms of CPU per quote at 1x" in note and "1.2 ms at 10x" in note
    assert "Ray, 1 worker: 1.0" in note  # (22 - 12) s over 10,000 quotes
    assert scale.distinct_quotes_row(new_text + repeated, "Ray, 1 worker").rate == 100.0


def test_scale_plot_draws_only_the_parts_that_ran(tmp_path):
    scale = bench_module("scale")
    scale.plot([], [("tfidf_svm", 500, 1.0, 0.1), ("tfidf_svm", 1000, 2.0, 0.1)], tmp_path / "train.png")
    scale.plot([scale.ExtractRow(0.01, 1, 8, 0.1, 2.0, 100)], [], tmp_path / "extract.png")
    assert (tmp_path / "train.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "extract.png").stat().st_size > 0


def test_cpu_meter_counts_the_stage_process_and_its_reaped_children_and_no_ray_without_a_cluster():
    scale = bench_module("scale")
    meter = scale.CpuMeter(None)
    sum(i * i for i in range(2_000_000))  # this process
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(2_000_000))"], check=True)  # a reaped child
    spent = meter.seconds()
    assert spent["stage process"] > 0.1 and spent["ray workers"] == spent["ray daemons"] == 0.0
