"""Speed and scale: cold and no-op repro on the seed, MiniLM's encode rate, and growth with corpus size.

1. Cold `make repro` in a fresh copy of the project (git-tracked files only: no DVC cache, no
   outputs, no MLflow store; the venv is this one and is not reinstalled), then no-op
   `dvc repro` and no-op `make repro` in that copy (median of --repeats runs).
2. all-MiniLM-L6-v2 encode rate on this CPU (sentence-transformers, batch 32, the pipeline's
   `load_encoder`), on short sentences and on ~120-word passages from PolNeAR dev: the
   ceiling for the embedding kinds and the example-similarity labeling function.
3. Ingest and extract time against corpus size: PolNeAR train articles (read in place from
   ../shared/data/polnear) written as .txt files, at fractions/multiples of the 840-article
   train split; beyond 1x the articles repeat with a one-line paragraph "Copy N." appended
   (ingest drops exact duplicates). Model loading is not timed. Each size up to 1x runs with every
   --n-process value (extract.n_process: spaCy parses in that many processes; default 1 and 2),
   larger sizes with the last one only (CPU time). Sizes beyond 1x (10x is ~16 min, 100x ~160 min)
   are extracted in segments of --segment-articles, each saved to a checkpoint in --checkpoints as
   it ends: a run that is stopped resumes at the next segment, and a finished size is read back
   instead of re-measured (--fresh re-measures). A checkpoint is only resumed by the same
   extraction code (its hash is part of the checkpoint).
4. The engines (`engines`): the same PolNeAR train sizes (--engine-fractions, default 1/100x, 1x and
   the 10x copy) through the extract stage on the local engine (1 and 2 spaCy processes) and on Ray
   (extract.engine: ray) with 1 worker and with 2 workers on a two-node cluster started here
   (ray.cluster_utils, one CPU per node), then their quotes through the predict stage's classification
   (local, Ray 1 and 2 workers; --model, default models/stance, skipped when absent); all in one run,
   each setup's rate against the local engine's, and whether its output is the local engine's, byte
   for byte. From the two largest sizes, on paper: time and workers for ten million articles, and
   where it stops scaling (the driver's own rate is measured on the largest size's quotes).
5. Train time against training size: SemEval tweets as in bench/train_speed.py (its data and
   `measure`), for the default model (tfidf_logreg with votes), tfidf_svm and embedding_logreg.

Tables go to stdout (markdown), the growth plot to --plot (PNG).

    .venv/bin/python -m bench.scale
    .venv/bin/python -m bench.scale --skip repro --fractions 0.1 1 10   # 10x = 8,400 articles
    .venv/bin/python -m bench.scale --skip repro encode train --fractions 100 --n-process 2  # resumable
    .venv/bin/python -m bench.scale --skip repro encode extract engines  # train time only
    .venv/bin/python -m bench.scale --skip repro encode extract train    # local engine vs Ray (about 3 hours)
    .venv/bin/python -m bench.scale --skip repro encode extract train --engine-fractions 1 10 \
        --engine-setups "Ray, 1 worker" "Ray, 2 workers on 2 nodes"      # the issue's three setups (2 h 30)
    .venv/bin/python -m bench.scale --quick                            # smoke: tiny sizes, no repro
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import ROOT, train_speed
from pipeline.catalog import STANCE_MODEL, Catalog
from pipeline.config import ExtractConfig, PathsConfig
from pipeline.errors import run_cli
from pipeline.files import atomic_open, write_json

POLNEAR = ROOT.parent / "shared" / "data" / "polnear"
SEMEVAL = ROOT.parent / "shared" / "data" / "semeval2016_task6"
VENV = Path(sys.executable).parent.parent
PARTS = ("repro", "encode", "extract", "engines", "train")
TRAIN_KINDS = ("tfidf_logreg", "tfidf_svm", "embedding_logreg")
CHECKPOINTS = ROOT / "docs" / "bench" / "scale"
SEGMENT_ARTICLES = 4_200  # ~8 min with 2 processes: what a stopped run can lose


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of one command run as a user would (venv bin first); a failure stops the bench."""
    env = {**os.environ, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    env.pop("DVC_ROOT", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def project_copy(destination: Path) -> Path:
    """The committed and untracked-not-ignored files in a new git repo, as a clean clone would be."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "copy"]):
        subprocess.run(command, cwd=destination, check=True, capture_output=True)
    return destination


def bench_repro(repeats: int) -> list[tuple[str, float, str]]:
    """Cold make repro, then no-op dvc repro and make repro, in one temp copy."""
    # -o: never remake the venv stamp (the copy shares this venv; reinstalling would repoint it).
    make = ["make", "--no-print-directory", f"VENV={VENV}", "-o", str(VENV / ".installed"), "repro"]
    with tempfile.TemporaryDirectory(prefix="bench-repro-") as scratch:
        copy = project_copy(Path(scratch))
        cold = timed(make, copy)
        dvc_noop = [timed([str(VENV / "bin" / "dvc"), "repro"], copy) for _ in range(repeats)]
        make_noop = [timed(make, copy) for _ in range(repeats)]
    return [("cold `make repro` (fresh copy, empty DVC cache)", cold, "1 run"),
            ("no-op `dvc repro`", statistics.median(dvc_noop), f"median of {repeats}"),
            ("no-op `make repro` (recompose params.yaml + dvc repro)", statistics.median(make_noop),
             f"median of {repeats}")]


def polnear_texts(split: str) -> list[tuple[str, str]]:
    folder = POLNEAR / split / "text"
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.txt"))]


def bench_encode(count: int, repeats: int) -> list[tuple[str, int, float, float]]:
    """(texts, n, texts/s, tokens/s) for short sentences and ~120-word passages."""
    from pipeline.labeling.embeddings import encode, load_encoder

    words = " ".join(text for _, text in polnear_texts("dev")).split()
    sentences = [s.strip() for _, text in polnear_texts("dev") for s in re.split(r"(?<=[.!?])\s+", text)
                 if 8 <= len(s.split()) <= 40][:count]
    passages = [" ".join(words[i:i + 120]) for i in range(0, 120 * (count // 4), 120)]
    encoder = load_encoder()
    encode(encoder, sentences[:32], 32, True)  # warm-up
    rows = []
    for name, texts in (("sentences (8-40 words)", sentences), ("passages (120 words)", passages)):
        tokens = sum(len(ids) for ids in encoder.tokenizer(texts, truncation=True,
                                                           max_length=encoder.max_seq_length)["input_ids"])
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            encode(encoder, texts, 32, True)
            runs.append(time.perf_counter() - started)
        seconds = statistics.median(runs)
        rows.append((name, len(texts), len(texts) / seconds, tokens / seconds))
    return rows


def write_articles(folder: Path, base: list[tuple[str, str]], count: int) -> None:
    """`count` article files from `base`, repeats made distinct by a final 'Copy N.' paragraph."""
    folder.mkdir(parents=True)
    for index in range(count):
        name, text = base[index % len(base)]
        copy = index // len(base)
        body = text if copy == 0 else f"{text.rstrip()}\n\nCopy {copy}.\n"
        (folder / f"{index:06d}_{name[:40]}.txt").write_text(body, encoding="utf-8")


@dataclass(frozen=True)
class ExtractRow:
    """One corpus size through ingest and extract with `n_process` spaCy parser processes."""

    fraction: float
    n_process: int
    articles: int
    ingest_s: float
    extract_s: float
    quotes: int
    source: str = ""  # how a checkpointed size was measured (segments, when); empty for sizes measured now
    # A checkpointed size's extract s per article over that of the 1x articles timed first in its own run(s).
    vs_same_run_1x: float | None = None

    @property
    def seconds_per_article(self) -> float:
        return (self.ingest_s + self.extract_s) / self.articles


def bench_extract(fractions: list[float], repeats: int, n_processes: list[int], checkpoints: Path | None = None,
                  segment: int = SEGMENT_ARTICLES) -> tuple[list[ExtractRow], list[str]]:
    """Each size with each n_process (extract.n_process: spaCy parses in that many processes); small sizes are
    medians; sizes beyond 1x go through `bench_extract_segmented` (with `checkpoints`). Also returns a note per
    size that is not finished yet."""
    from pipeline.extraction import load_nlp

    base = polnear_texts("train")
    nlp = load_nlp(ExtractConfig().spacy_model)
    rows, unfinished = [], []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        warm = Path(scratch) / "warm-up"
        write_articles(warm, base, 1)  # the first parse pays for lazy initialisation: not timed
        time_ingest_and_extract(warm, nlp, ExtractConfig())
        for fraction in fractions:
            count = max(1, round(fraction * len(base)))
            folder = Path(scratch) / f"n{count}"
            if fraction > 1:  # the largest n_process only: CPU time (10x is ~25 min with one process)
                n_process = n_processes[-1]
                row, note = bench_extract_segmented(folder, base, fraction, n_process, nlp, checkpoints, segment)
                rows.extend([row] if row else [])
                unfinished.extend([note] if note else [])
                continue
            write_articles(folder, base, count)
            for n_process in n_processes:
                runs = [time_ingest_and_extract(folder, nlp, ExtractConfig(n_process=n_process))
                        for _ in range(repeats if count <= 100 else 1)]
                rows.append(ExtractRow(fraction, n_process, runs[0][3], statistics.median(run[0] for run in runs),
                                       statistics.median(run[1] for run in runs), runs[0][2]))
                print(f"  extract n={count} n_process={n_process}: ingest {rows[-1].ingest_s:.1f} s, "
                      f"extract {rows[-1].extract_s:.1f} s", file=sys.stderr, flush=True)
            shutil.rmtree(folder)
    return rows, unfinished


def time_ingest_and_extract(folder: Path, nlp, cfg: ExtractConfig) -> tuple[float, float, int, int]:
    """(ingest s, extract s, quotes, articles) for the article files in `folder`. Articles are what ingest
    keeps, not the files: PolNeAR train has one exact duplicate, so 1x is 840 files and 839 articles."""
    from pipeline.files import find_article_files
    from pipeline.ingest import ingest_files

    started = time.perf_counter()
    articles = ingest_files(find_article_files(folder, ["txt"])).articles
    ingest_s = time.perf_counter() - started
    return (ingest_s, *timed_extract(articles, nlp, cfg), len(articles))


def timed_extract(articles: list, nlp, cfg: ExtractConfig) -> tuple[float, int]:
    """(seconds, quotes) of extracting `articles`."""
    from pipeline.extract import extract_articles

    started = time.perf_counter()
    quotes = sum(len(found) for _, found in extract_articles(articles, nlp, cfg))
    return time.perf_counter() - started, quotes


def extraction_code_hash() -> str:
    """The code whose speed a checkpoint measured: ingest, extract and the extraction rules."""
    digest = hashlib.sha256()
    for path in [ROOT / "pipeline" / "ingest.py", ROOT / "pipeline" / "extract.py",
                 *sorted((ROOT / "pipeline" / "extraction").glob("*.py"))]:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def bench_extract_segmented(folder: Path, base: list[tuple[str, str]], fraction: float, n_process: int, nlp,
                            checkpoints: Path | None, segment: int) -> tuple[ExtractRow | None, str]:
    """One large size: ingest all of it (timed), then extract it `segment` articles at a time, saving each
    finished segment to the size's checkpoint. Resumes after the last saved segment; a finished checkpoint is
    read back without re-measuring. Returns the row when every article is extracted, else a progress note."""
    files = round(fraction * len(base))
    key = {"files": files, "n_process": n_process, "spacy_model": ExtractConfig().spacy_model,
           "code": extraction_code_hash()}
    path = checkpoints / f"extract_{fraction:g}x_np{n_process}.json" if checkpoints else None
    state = read_checkpoint(path, key)
    done = state["segments"][-1]["end"] if state["segments"] else 0
    if state["articles"] is None or done < state["articles"]:
        from pipeline.files import find_article_files
        from pipeline.ingest import ingest_files

        write_articles(folder, base, files)
        started = time.perf_counter()
        articles = ingest_files(find_article_files(folder, ["txt"])).articles  # drops exact duplicates
        state["ingest"].append({"seconds": round(time.perf_counter() - started, 2), "measured_at": now_utc()})
        if state["articles"] not in (None, len(articles)):
            raise RuntimeError(f"ingest kept {len(articles):,} articles, the checkpoint {state['articles']:,}")
        state["articles"] = count = len(articles)
        cfg = ExtractConfig(n_process=n_process)
        # This machine's speed drifts between runs: each run first times the 1x articles (the first copy), so the
        # size's growth is a ratio against a baseline measured in the same run(s).
        seconds, _ = timed_extract(articles[:len(base)], nlp, cfg)
        state["baseline"].append({"articles": len(base), "seconds": round(seconds, 2), "measured_at": now_utc()})
        while done < count:
            end = min(done + segment, count)
            load_before = os.getloadavg()[0]
            seconds, quotes = timed_extract(articles[done:end], nlp, cfg)
            state["segments"].append({"start": done, "end": end, "seconds": round(seconds, 2), "quotes": quotes,
                                      "measured_at": now_utc(),
                                      "load": [round(load_before, 1), round(os.getloadavg()[0], 1)]})
            if path:
                write_json(path, state)
            print(f"  extract n={count} n_process={n_process}: articles {done:,}-{end:,} in "
                  f"{state['segments'][-1]['seconds']:.0f} s", file=sys.stderr, flush=True)
            done = end
        shutil.rmtree(folder)
    return row_from_checkpoint(fraction, state)


def read_checkpoint(path: Path | None, key: dict) -> dict:
    """The saved progress of a size when it was measured with this `key` (code, settings), else a fresh start."""
    if path and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return {"baseline": [], **saved}
        print(f"  {path.name}: saved for other code or settings, starting over", file=sys.stderr, flush=True)
    return {"key": key, "articles": None, "ingest": [], "baseline": [], "segments": []}


def row_from_checkpoint(fraction: float, state: dict) -> tuple[ExtractRow | None, str]:
    """The size's row when every article is extracted, else a note of the progress so far."""
    count, n_process = state["articles"] or state["key"]["files"], state["key"]["n_process"]
    segments = state["segments"]
    extracted = segments[-1]["end"] if segments else 0
    seconds = sum(part["seconds"] for part in segments)
    runs = len(state["ingest"])
    first, last = (segments[0]["measured_at"], segments[-1]["measured_at"]) if segments else ("", "")
    when = first if first == last else f"{first} to {last}"
    loads = [value for part in segments for value in part["load"]]
    baseline = [run["seconds"] / run["articles"] for run in state.get("baseline", [])]
    ratio = (f" ({seconds / extracted / statistics.median(baseline):.2f}x the s per article of the 1x articles timed "
             f"first in the same run(s))" if baseline and extracted else "")
    if extracted < count:
        rate = f", {extracted / seconds:.2f} articles/s so far{ratio}" if seconds else ""
        return None, (f"{fraction:g}x ({count:,} articles, n_process {n_process}) is unfinished: {extracted:,} "
                      f"articles extracted in {len(segments)} segment(s){rate}; the same command resumes it.")
    ingest_s = statistics.median(run["seconds"] for run in state["ingest"])
    source = (f"{fraction:g}x: extracted in {len(segments)} segment(s) over {runs} run(s), {when}, 1-min load "
              f"{min(loads):.1f}-{max(loads):.1f}; ingest median of {runs}{ratio}")
    return ExtractRow(fraction, n_process, count, ingest_s, seconds, sum(part["quotes"] for part in segments), source,
                      seconds / extracted / statistics.median(baseline) if baseline else None), ""


def quotes_note(rows: list[ExtractRow]) -> str:
    """Whether every n_process found the same number of quotes at each size (it should: only the parse is split),
    and which n_process ran beyond 1x."""
    every = {row.n_process for row in rows}
    if len(every) < 2:
        return ""
    beyond = sorted({row.n_process for row in rows if row.fraction > 1})
    only = (f" Sizes beyond 1x ran with n_process {', '.join(map(str, beyond))} only (CPU time)."
            if beyond and len(beyond) < len(every) else "")
    differ = sorted({row.articles for row in rows if row.quotes != next(
        other.quotes for other in rows if other.fraction == row.fraction)})
    return ("Every n_process found the same quotes count at each size." if not differ else
            f"QUOTE COUNTS DIFFER between n_process values at {', '.join(map(str, differ))} articles.") + only


def vs_1x(row: ExtractRow, rows: list[ExtractRow]) -> float | None:
    """Extract s per article against the 1x articles with the same n_process timed in the same run: a checkpointed
    size's own baseline, else the 1x row measured now. Across runs this machine's speed drifts by up to 25%."""
    if row.source:
        return row.vs_same_run_1x
    one = next((other for other in rows if other.fraction == 1 and other.n_process == row.n_process
                and not other.source), None)
    return (row.extract_s / row.articles) / (one.extract_s / one.articles) if one else None


def print_extract_table(rows: list[ExtractRow], repeats: int, unfinished: list[str] = ()) -> None:
    """The growth table: per n_process, seconds per article against its smallest size and against 1x timed in the
    same run; speed-up against n_process 1."""
    print("### Ingest and extract vs corpus size (PolNeAR train articles)\n")
    print("| x train | n_process | articles | quotes | ingest s | extract s | articles/s | s per article vs smallest "
          "| extract s per article vs 1x, same run | x faster than n_process 1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        smallest = next(other for other in rows if other.n_process == row.n_process)
        single = next((other for other in rows if other.fraction == row.fraction and other.n_process == 1), None)
        speedup = f"{single.seconds_per_article / row.seconds_per_article:.2f}" if single else ""
        same_run = vs_1x(row, rows)
        print(f"| {row.fraction:.3g} | {row.n_process} | {row.articles:,} | {row.quotes:,} | {row.ingest_s:.2f} | "
              f"{row.extract_s:.1f} | {1 / row.seconds_per_article:.2f} | "
              f"{row.seconds_per_article / smallest.seconds_per_article:.2f} | "
              f"{'' if same_run is None else f'{same_run:.2f}'} | {speedup} |")
    largest = max(row.articles for row in rows)
    rate = min(row.seconds_per_article for row in rows if row.articles == largest)
    not_run = [m for m in (10, 100) if all(row.fraction < m for row in rows)
               and not any(note.startswith(f"{m}x ") for note in unfinished)]
    sources = [row.source for row in rows if row.source]
    print(f"\nSizes up to {largest:,} articles were run; sizes of up to 100 articles are the median of "
          f"{repeats} runs. `s per article vs smallest` near 1 means linear growth; the `vs 1x, same run` column "
          f"reads growth without the drift of this machine's speed between runs (sizes beyond 1x ran in other runs, "
          f"each of which timed the 1x articles first). {quotes_note(rows)}"
          + (" Sizes beyond 1x are read from their checkpoints in docs/bench/scale/ (`--fresh` re-measures them): "
             + "; ".join(sources) + "." if sources else "")
          + "".join(f" {note}" for note in unfinished)
          + (" Not run: " + ", ".join(f"{m}x ({m * 840:,} articles, about {m * 840 * rate / 60:,.0f} min at the "
                                      f"largest size's best rate)" for m in not_run)
             + "; `--fractions 10 100` runs them (resumably)." if not_run else "") + "\n")


# Each corpus size through the extract stage (and its quotes through the predict stage's classification) on each
# setup: (label, engine, extract.n_process, Ray workers). Ray runs on a two-node cluster of one CPU per node.
EXTRACT_SETUPS = (("local", "local", 1, 1), ("local, n_process 2", "local", 2, 1), ("Ray, 1 worker", "ray", 1, 1),
                  ("Ray, 2 workers on 2 nodes", "ray", 1, 2))
PREDICT_SETUPS = tuple(setup for setup in EXTRACT_SETUPS if setup[2] == 1)
BESIDE_LOCAL = tuple(name for name, *_ in EXTRACT_SETUPS[1:])  # what --engine-setups chooses from
TEN_MILLION = 10_000_000


@dataclass(frozen=True)
class EngineRow:
    """One stage (extract: articles -> quotes; predict: quotes -> labels) on one setup and corpus size, timed from
    the stage's start (the model load, Ray's connection and its actors' start included) to its last record."""

    stage: str
    fraction: float
    setup: str
    records: int
    outputs: int
    seconds: float
    same_as_local: bool
    cpu: dict[str, float]  # CPU seconds by role (CpuMeter)

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


@contextlib.contextmanager
def two_node_cluster() -> Iterator[tuple[str, str]]:
    """Two Ray nodes of one CPU each on this machine; yields the address a stage joins through RAY_ADDRESS and the
    cluster's temp dir (which its processes name)."""
    from pipeline.ray_engine import local_cluster

    with local_cluster(nodes=2, cpus_per_node=1) as cluster:
        yield cluster


class CpuMeter:
    """CPU seconds spent during a block, by who spent them: the stage's own process (with the spaCy processes
    it starts and reaps: for Ray, the driver, which also runs Ray Data's streaming executor), Ray's workers (the
    stage's actors and the read task) and Ray's own processes (GCS, raylets, agents, log monitor, and Ray Data's
    own actors for statistics, usage and autoscaling). Load-independent, unlike wall time:
    on this 2-core machine, wall time is at least the total divided by 2, whatever the engine.

    Ray's processes are those naming the cluster's temp dir and their children (the workers, whose title
    `ray::...` replaces their command line); they are sampled every SAMPLE_S, since an actor exits with its job."""

    SAMPLE_S = 0.2

    def __init__(self, temp_dir: str | None):
        import psutil

        self.psutil, self.temp_dir = psutil, temp_dir
        self.before = {key: seconds for key, (seconds, _) in self.sample().items()}
        self.last: dict[tuple[int, float], tuple[float, str]] = {}
        self.stage_before = self.stage_seconds()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def stage_seconds(self) -> float:
        times = self.psutil.Process().cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def ray_processes(self) -> list:
        if not self.temp_dir:
            return []
        found = {}
        for process in self.psutil.process_iter(["cmdline"]):
            if any(self.temp_dir in part for part in process.info["cmdline"] or []):
                found[process.pid] = process
                with contextlib.suppress(self.psutil.Error):
                    found.update((child.pid, child) for child in process.children(recursive=True))
        found.pop(os.getpid(), None)
        return list(found.values())

    def sample(self) -> dict[tuple[int, float], tuple[float, str]]:
        """(pid, start time) -> (CPU seconds so far, role) of each of Ray's processes alive now."""
        seen = {}
        for process in self.ray_processes():
            with contextlib.suppress(self.psutil.Error):
                times, title = process.cpu_times(), " ".join(process.cmdline())
                # Ray names its own actors (statistics, usage, autoscaling) ray::_<Name>
                role = "ray workers" if title.startswith("ray::") and not title.startswith("ray::_") else "ray daemons"
                seen[(process.pid, process.create_time())] = (times.user + times.system, role)
        return seen

    def watch(self) -> None:
        while not self.stop.wait(self.SAMPLE_S):
            self.last.update(self.sample())

    def seconds(self) -> dict[str, float]:
        """Stop watching; CPU seconds by role since the meter started."""
        self.stop.set()
        self.thread.join()
        self.last.update(self.sample())
        spent = {"stage process": self.stage_seconds() - self.stage_before, "ray workers": 0.0, "ray daemons": 0.0}
        for key, (seconds, role) in self.last.items():
            spent[role] += seconds - self.before.get(key, 0.0)
        return spent


@contextlib.contextmanager
def ray_address(address: str | None) -> Iterator[None]:
    """RAY_ADDRESS set to `address` (unset for None) for the duration."""
    before = os.environ.pop("RAY_ADDRESS", None)
    if address:
        os.environ["RAY_ADDRESS"] = address
    try:
        yield
    finally:
        os.environ.pop("RAY_ADDRESS", None)
        if before is not None:
            os.environ["RAY_ADDRESS"] = before


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bench_engines(fractions: list[float], setups: list[str], model: Path | None, batch_size: int,
                  predict_batch_size: int) -> tuple[list[EngineRow], dict]:
    """Every size through extract on each EXTRACT_SETUPS entry named in `setups`, then its quotes through the
    predict stage's classification on each of those in PREDICT_SETUPS (with `model`, when there is one), all on one
    cluster, in one run.
    Also returns what the projection needs: the stage driver's own rate and the bytes per article."""
    from pipeline import engines
    from pipeline.config import RayConfig
    from pipeline.extract import extract_corpus
    from pipeline.extraction.nlp import load_nlp
    from pipeline.files import find_article_files
    from pipeline.ingest import ingest_files
    from pipeline.predict import PredictWorker, load_stance_model, model_target
    from pipeline.records import write_records

    extract_setups = [entry for entry in EXTRACT_SETUPS if entry[0] in setups]
    predict_setups = [entry for entry in PREDICT_SETUPS if entry[0] in setups]
    base = polnear_texts("train")
    target_name = model_target(load_stance_model(str(model))).name if model else None
    rows: list[EngineRow] = []
    facts: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as scratch, two_node_cluster() as (address, ray_temp_dir):
        warm = Path(scratch) / "warm-up"  # Ray's first job on a cluster also ships the code and starts its worker pool
        write_articles(warm / "files", base, 2)
        write_records(warm / "articles.jsonl", ingest_files(find_article_files(warm / "files", ["txt"])).articles)
        with ray_address(address):
            extract_corpus(warm / "articles.jsonl", warm / "quotes.jsonl",
                           ExtractConfig(engine="ray", ray=RayConfig(workers=2, batch_size=1)))
        for fraction in fractions:
            count = max(1, round(fraction * len(base)))
            folder = Path(scratch) / f"n{count}"
            write_articles(folder / "files", base, count)
            articles = ingest_files(find_article_files(folder / "files", ["txt"])).articles
            shutil.rmtree(folder / "files")
            write_records(folder / "articles.jsonl", articles)
            reference = None
            for setup, engine, n_process, workers in extract_setups:
                cfg = ExtractConfig(engine=engine, n_process=n_process,
                                    ray=RayConfig(workers=workers, batch_size=batch_size))
                load_nlp.cache_clear()  # each setup loads spaCy, as a stage does
                with ray_address(address if engine == "ray" else None):
                    meter, started = CpuMeter(ray_temp_dir), time.perf_counter()
                    summary = extract_corpus(folder / "articles.jsonl", folder / "quotes.jsonl", cfg)
                    seconds, cpu = time.perf_counter() - started, meter.seconds()
                digest = file_digest(folder / "quotes.jsonl")
                reference = reference or digest
                rows.append(EngineRow("extract", fraction, setup, len(articles), summary["quotes"], seconds,
                                      digest == reference, cpu))
                print(f"  extract n={len(articles):,} {setup}: {seconds:.1f} s", file=sys.stderr, flush=True)
            facts.update(articles=len(articles), quotes=summary["quotes"],
                         quote_bytes=(folder / "quotes.jsonl").stat().st_size,
                         article_bytes=(folder / "articles.jsonl").stat().st_size,
                         driver=driver_rate(folder / "quotes.jsonl", len(articles)))
            if model is None:
                continue
            reference = None
            for setup, engine, _, workers in predict_setups:
                args = {"model_uri": str(model), "target_name": target_name, "source": str(folder / "quotes.jsonl")}
                with ray_address(address if engine == "ray" else None):
                    meter, started = CpuMeter(ray_temp_dir), time.perf_counter()
                    with contextlib.closing(engines.run(engine, folder / "quotes.jsonl", PredictWorker, args,
                                                        RayConfig(workers=workers, batch_size=predict_batch_size),
                                                        "predict")) as outcomes:
                        predictions = list(engines.outputs(outcomes))
                    seconds, cpu = time.perf_counter() - started, meter.seconds()
                digest = hashlib.sha256(json.dumps(predictions, sort_keys=True).encode()).hexdigest()
                reference = reference or digest
                rows.append(EngineRow("predict", fraction, setup, summary["quotes"], len(predictions), seconds,
                                      digest == reference, cpu))
                print(f"  predict n={len(predictions):,} {setup}: {seconds:.1f} s", file=sys.stderr, flush=True)
            facts["prediction_bytes"] = len(json.dumps(predictions)) / max(1, len(predictions))
            shutil.rmtree(folder)
    return rows, facts


def driver_rate(quotes: Path, articles: int) -> float:
    """Articles/s that the stage's own process sustains on the Ray engine's output: each article's quotes arrive
    as one JSON string, which the driver decodes, counts and writes to quotes.jsonl (`write_quotes`). No
    extraction: the ceiling that a cluster of any size meets at the driver."""
    from pipeline.engines import Outcome
    from pipeline.extract import write_quotes

    per_article: dict[str, list[str]] = {}
    for line in quotes.read_text(encoding="utf-8").splitlines():
        per_article.setdefault(json.loads(line)["article_id"], []).append(line)
    payloads = ["[" + ",".join(lines) + "]" for lines in per_article.values()]
    payloads += ["[]"] * (articles - len(payloads))  # articles without quotes
    started = time.perf_counter()
    write_quotes((Outcome(number, json.loads(payload)) for number, payload in enumerate(payloads, start=1)),
                 quotes.with_suffix(".driver.jsonl"))
    return articles / (time.perf_counter() - started)


def print_engine_tables(rows: list[EngineRow], facts: dict, batch_size: int, predict_batch_size: int) -> None:
    """Per stage: articles (or quotes) per second of each setup and its ratio to the local engine in the same run;
    then the projection to 10 million articles."""
    for stage, unit in (("extract", "articles"), ("predict", "quotes")):
        mine = [row for row in rows if row.stage == stage]
        if not mine:
            continue
        print(f"### {stage.capitalize()} on the local engine and on Ray (PolNeAR train articles)\n")
        print(f"| x train | setup | {unit} | {'quotes' if stage == 'extract' else 'predictions'} | wall s | "
              f"{unit}/s | x local | same output as local |")
        print("|---:|---|---:|---:|---:|---:|---:|---|")
        for row in mine:
            local = next(other for other in mine if other.fraction == row.fraction and other.setup == "local")
            print(f"| {row.fraction:.3g} | {row.setup} | {row.records:,} | {row.outputs:,} | {row.seconds:.1f} | "
                  f"{row.rate:.2f} | {row.rate / local.rate:.2f} | {'yes' if row.same_as_local else 'NO'} |")
        print()
        print_cpu_table(mine)
    if note := repeated_quotes_note(rows):
        print(note + "\n")
    print(f"Wall time from the stage's start to its last record: the model load, and for Ray the connection to the "
          f"cluster and each actor's start (spaCy or the exported model loaded once per actor), are included; Ray "
          f"batches of {batch_size} articles or {predict_batch_size} quotes. The cluster is two Ray nodes of one CPU "
          f"each on this 2-core machine (`ray.cluster_utils.Cluster`), the stage's own process (the driver, which "
          f"collects and writes the records) beside them, and the machine shared with other work (load average "
          f"above). `x local` is the ratio of rates against the local engine with one process in the same run.\n")
    print(CPU_TABLE_NOTE + "\n")
    projection(rows, facts)


def distinct_quotes_row(rows: list[EngineRow], setup: str) -> EngineRow | None:
    """The setup's predict row at the largest size whose quotes are all new text: up to 1x, since beyond it the
    copy repeats PolNeAR train's articles, and so every quote's sentence."""
    mine = [row for row in rows if row.stage == "predict" and row.setup == setup and row.fraction <= 1]
    return max(mine, key=lambda row: row.records, default=None)


def repeated_quotes_note(rows: list[EngineRow]) -> str:
    """What the predict rows beyond 1x measure: each sentence again, which the stance grammar parses once per
    process (its parse cache), so the work per quote is a fraction of a new quote's and Ray's cost per quote
    shows. Empty when no size goes beyond 1x."""
    repeated = [row for row in rows if row.stage == "predict" and row.fraction > 1]
    fresh = distinct_quotes_row(rows, "local")
    if not repeated or fresh is None:
        return ""
    largest = max(row.fraction for row in repeated)
    local = next(row for row in repeated if row.fraction == largest and row.setup == "local")
    added = "; ".join(f"{row.setup}: {1000 * (row.cpu_seconds - local.cpu_seconds) / row.records:.1f}"
                      for row in repeated if row.fraction == largest and row.setup != "local")
    return (f"Beyond 1x the copy repeats every article, so every quote's sentence comes back {largest:g} times, and "
            f"the stance grammar parses a sentence once per process (its parse cache): the local engine spent "
            f"{1000 * fresh.cpu_seconds / fresh.records:.1f} ms of CPU per quote at {fresh.fraction:g}x, where "
            f"every quote is new, and {1000 * local.cpu_seconds / local.records:.1f} ms at {largest:g}x. The "
            f"predict rows beyond 1x therefore measure the engines on cheap work, where what Ray adds per quote "
            f"(batches through the object store, the driver decoding them; CPU ms per quote over the local engine: "
            f"{added}) outweighs the work itself. A corpus of new text is the {fresh.fraction:g}x rows' case.")


CPU_TABLE_NOTE = ("The CPU tables count the CPU seconds spent during each setup's run (psutil, sampled every 0.2 "
                  "s), by who spent them: the stage process (on the local engine the work itself, with the spaCy "
                  "processes of n_process; on Ray the driver, which also runs Ray Data's streaming executor), the "
                  "stage's Ray workers (its actors and the read task), and Ray's own processes (GCS, raylets, "
                  "agents, log monitor, Ray Data's own actors). Unlike wall time they do not move with other load "
                  "on the machine. `best x local on 2 cores` is twice the local engine's CPU seconds over the "
                  "setup's: the ratio the setup would reach with both cores busy all the time.")


def print_cpu_table(rows: list[EngineRow]) -> None:
    """Where each setup's CPU went (CpuMeter), and the ratio to the local engine that 2 cores allow at best: the
    local engine's CPU seconds over half the setup's (its wall time can be no shorter than half its CPU seconds,
    and the local engine keeps one core busy)."""
    print("| x train | setup | CPU s: stage process | Ray workers | Ray's own processes | total | x local's CPU | "
          "best x local on 2 cores |\n|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        local = next(other for other in rows if other.fraction == row.fraction and other.setup == "local")
        total, local_total = row.cpu_seconds, local.cpu_seconds
        print(f"| {row.fraction:.3g} | {row.setup} | {row.cpu['stage process']:.1f} | {row.cpu['ray workers']:.1f} | "
              f"{row.cpu['ray daemons']:.1f} | {total:.1f} | {total / local_total:.2f} | "
              f"{min(2.0, 2 * local_total / total):.2f} |")
    print()


def steady(rows: list[EngineRow], stage: str, setup: str) -> tuple[float, float] | None:
    """(records/s once running, fixed seconds) of a setup, from its two largest sizes: the marginal rate, and
    the start-up cost that the smaller size's time leaves over."""
    mine = sorted((row for row in rows if row.stage == stage and row.setup == setup), key=lambda row: row.records)
    if len(mine) < 2 or mine[-1].seconds <= mine[-2].seconds:
        return None
    small, large = mine[-2], mine[-1]
    rate = (large.records - small.records) / (large.seconds - small.seconds)
    return rate, max(0.0, small.seconds - small.records / rate)


def days(seconds: float) -> str:
    return f"{seconds / 86400:,.1f} days" if seconds > 2 * 86400 else f"{seconds / 3600:,.1f} h"


def projection(rows: list[EngineRow], facts: dict) -> None:
    """On paper, from the figures above: time and workers for ten million articles, and what stops the scaling."""
    one, two = (steady(rows, "extract", setup) for setup in ("Ray, 1 worker", "Ray, 2 workers on 2 nodes"))
    local = steady(rows, "extract", "local")
    print("### On paper: ten million articles\n")
    if not (one and two and local and facts):
        print("Needs two sizes of each setup (e.g. `--engine-fractions 1 10`).\n")
        return
    per_worker = one[0]
    efficiency = two[0] / (2 * one[0])
    quotes_per_article = facts["quotes"] / facts["articles"]
    out_bytes = facts["quote_bytes"] / facts["articles"]
    in_bytes = facts["article_bytes"] / facts["articles"]
    print(f"Marginal rates from the two largest sizes (time differences, so start-up drops out): local "
          f"{local[0]:.2f} articles/s; Ray {per_worker:.2f} per worker with one worker, {two[0]:.2f} with two "
          f"({efficiency:.0%} of twice one worker); start-up {one[1]:.0f} s (1 worker) and {two[1]:.0f} s (2 "
          f"workers). At those rates ten million articles take {days(TEN_MILLION / local[0])} on the local engine "
          f"(one process), and on Ray with W workers of one CPU each about 10,000,000 / (W x {per_worker:.2f} x "
          f"efficiency) seconds:\n")
    print("| workers (1 CPU each) | efficiency assumed | extract time | driver load |\n|---:|---:|---:|---:|")
    driver = facts["driver"]
    for workers in (2, 16, 64, 256, 1024):
        rate = workers * per_worker * efficiency
        print(f"| {workers:,} | {efficiency:.0%} | {days(TEN_MILLION / min(rate, driver))} | "
              f"{rate / driver:.0%} |")
    ceiling = driver / (per_worker * efficiency)
    print("\nWhere it stops scaling, in order:\n")
    print(f"- **The driver.** The stage's own process receives every article's quotes ({quotes_per_article:.1f} "
          f"quotes, {out_bytes / 1024:.1f} KB of JSON per article), decodes, counts and writes them in order: on its "
          f"own it sustains {driver:,.0f} articles/s on this CPU (measured on the largest size's quotes), so past "
          f"about {ceiling:,.0f} workers the cluster waits for it (the `driver load` column; over 100% the time above "
          f"is the driver's). Beyond that, each worker would write its own part file (Ray Data `write_json`) and the "
          f"summary would be merged from per-part counts.")
    print(f"- **Output writes.** Ten million articles give about {TEN_MILLION * out_bytes / 1e9:,.0f} GB of "
          f"quotes.jsonl, written by that one process: at 200 MB/s of disk, "
          f"{TEN_MILLION * out_bytes / 200e6 / 60:,.0f} min, inside the driver's rate above.")
    print(f"- **The object store and the network.** Every article crosses it twice: {in_bytes / 1024:.1f} KB in "
          f"(the read task streams articles.jsonl from shared storage to the actors) and {out_bytes / 1024:.1f} KB "
          f"out (to the driver). At the driver's ceiling that is "
          f"{driver * (in_bytes + out_bytes) / 1e6:,.0f} MB/s through the head node, within a 10 Gb/s link; one "
          f"read task per file, so a corpus split into many files reads in parallel.")
    if "prediction_bytes" in facts:
        predict_one = distinct_quotes_row(rows, "Ray, 1 worker")
        held = TEN_MILLION * quotes_per_article * facts["prediction_bytes"]
        print("- **Predict's aggregation.** Classification scales like extraction"
              + (f" ({predict_one.rate:,.0f} quotes/s per worker on new text, start-up included)"
                 if predict_one else "")
              + f", but the stage then ranks every speaker over the whole corpus in its own process: ten million "
              f"articles are {TEN_MILLION * quotes_per_article / 1e6:,.0f} million predictions, about "
              f"{held / 1e9:,.0f} GB as JSON, which one machine's memory does not hold. At that size the speaker "
              f"table would be a Ray Data `groupby` over speakers, not a list in the driver.")
    print()


def bench_train(sizes: list[int], kinds: list[str], seed: int) -> list[tuple[str, int, float, float]]:
    """(kind, n, fit s, predict s per 1,000) per kind and size, via train_speed's data and `measure`."""
    base = train_speed.read_semeval(SEMEVAL)
    train_speed.import_libraries()
    predict_examples = train_speed.examples_of_size(base, train_speed.PREDICT_SIZE, seed + 1)
    rows = []
    for kind in kinds:
        for size in sizes:
            examples = train_speed.examples_of_size(base, size, seed)
            fit_s, predict_s = train_speed.measure(kind, examples, predict_examples, seed)
            rows.append((kind, size, fit_s, predict_s * 1000 / train_speed.PREDICT_SIZE))
            print(f"  train {kind} n={size}: fit {fit_s:.1f} s", file=sys.stderr, flush=True)
    return rows


def plot(extract_rows: list[ExtractRow], train_rows: list, path: Path) -> None:
    """One log-log panel per part that ran: ingest and extract seconds per corpus size, fit seconds per training
    size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [rows for rows in (extract_rows, train_rows) if rows]
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), dpi=110, squeeze=False)
    panel = iter(axes[0])
    if extract_rows:
        left = next(panel)
        ingest = list({row.articles: row for row in reversed(extract_rows)}.values())[::-1]  # one per size
        left.plot([row.articles for row in ingest], [row.ingest_s for row in ingest], "o-", label="ingest")
        for n_process in dict.fromkeys(row.n_process for row in extract_rows):
            mine = [row for row in extract_rows if row.n_process == n_process]
            left.plot([row.articles for row in mine], [row.extract_s for row in mine], "s-",
                      label=f"extract, n_process {n_process}")
        left.set(xscale="log", yscale="log", xlabel="PolNeAR train articles", ylabel="seconds",
                 title="Ingest and extract vs corpus size")
        left.legend(loc="upper left", fontsize="small")
    if train_rows:
        right = next(panel)
        for kind in dict.fromkeys(row[0] for row in train_rows):
            mine = [row for row in train_rows if row[0] == kind]
            right.plot([row[1] for row in mine], [row[2] for row in mine], "o-", label=kind)
        right.set(xscale="log", yscale="log", xlabel="training examples (SemEval tweets)", ylabel="fit seconds",
                  title="Train vs training size")
        sizes = sorted({row[1] for row in train_rows})
        right.set_xticks(sizes, [f"{size:,}" for size in sizes], minor=False)
        right.set_xticks([], minor=True)
        right.legend()
    for each in axes[0]:
        each.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        figure.savefig(handle, format="png", metadata={"Software": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", nargs="+", choices=PARTS, default=[])
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.01, 0.1, 0.25, 1.0],
                        help="corpus sizes as multiples of the 840 PolNeAR train articles")
    parser.add_argument("--n-process", nargs="+", type=int, default=[1, 2],
                        help="extract.n_process values to run every size with (spaCy parser processes)")
    parser.add_argument("--train-sizes", nargs="+", type=int, default=[500, 1000, 2000, 5000])
    parser.add_argument("--train-kinds", nargs="+", choices=TRAIN_KINDS, default=list(TRAIN_KINDS))
    parser.add_argument("--encode-count", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "scale.png")
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS,
                        help="where sizes beyond 1x save each extracted segment (resume, reuse)")
    parser.add_argument("--segment-articles", type=int, default=SEGMENT_ARTICLES,
                        help="articles per checkpointed segment for sizes beyond 1x")
    parser.add_argument("--fresh", action="store_true", help="re-measure sizes beyond 1x (ignore checkpoints)")
    parser.add_argument("--engine-fractions", nargs="+", type=float, default=[0.01, 1.0, 10.0],
                        help="corpus sizes for the engines part (local vs Ray), as multiples of PolNeAR train")
    parser.add_argument("--engine-setups", nargs="+", default=list(BESIDE_LOCAL), choices=BESIDE_LOCAL,
                        help="setups measured beside the local engine in the engines part (default: all)")
    parser.add_argument("--model", type=Path, default=Catalog(PathsConfig(), ROOT).path(STANCE_MODEL),
                        help="exported model for the predict half of the engines part (skipped when absent)")
    parser.add_argument("--ray-batch-size", type=int, default=16, help="articles per Ray batch (extract.ray)")
    parser.add_argument("--predict-batch-size", type=int, default=1000, help="quotes per Ray batch (predict.ray)")
    parser.add_argument("--quick", action="store_true", help="smoke: 3 articles, 100/200 examples, no repro")
    args = parser.parse_args(argv)
    args.plot = ROOT / args.plot if not args.plot.is_absolute() else args.plot
    if args.quick:
        args.skip = sorted(set(args.skip) | {"repro"})
        args.fractions, args.train_sizes, args.train_kinds = [1 / 840, 3 / 840], [100, 200], ["tfidf_logreg"]
        args.n_process = [1]
        args.engine_fractions, args.ray_batch_size, args.predict_batch_size = [2 / 840, 6 / 840], 2, 20
        args.encode_count, args.repeats = 16, 1
        args.plot = Path(tempfile.gettempdir()) / "bench-quick-scale.png"
    if not POLNEAR.is_dir() or not SEMEVAL.is_dir():
        print(f"skipped: {POLNEAR} or {SEMEVAL} not found")
        return 0
    if "repro" not in args.skip:
        print("### Repro on the seed\n\n| run | wall s | |\n|---|---:|---|")
        for name, seconds, note in bench_repro(args.repeats):
            print(f"| {name} | {seconds:.1f} | {note} |")
        print()
    if "encode" not in args.skip:
        print(f"### all-MiniLM-L6-v2 encode rate (CPU, batch 32, median of {args.repeats})\n")
        print("| texts | n | texts/s | tokens/s |\n|---|---:|---:|---:|")
        for name, count, per_s, tokens_s in bench_encode(args.encode_count, args.repeats):
            print(f"| {name} | {count} | {per_s:.1f} | {tokens_s:,.0f} |")
        print()
    checkpoints = None if args.quick or args.fresh else ROOT / args.checkpoints
    extract_rows, unfinished = ([], []) if "extract" in args.skip else bench_extract(
        args.fractions, args.repeats, args.n_process, checkpoints, args.segment_articles)
    if extract_rows:
        print_extract_table(extract_rows, args.repeats, unfinished)
    elif unfinished:
        print("### Ingest and extract vs corpus size (PolNeAR train articles)\n\n" + " ".join(unfinished) + "\n")
    if "engines" not in args.skip:
        model = args.model if (args.model / "MLmodel").is_file() else None
        engine_rows, facts = bench_engines(args.engine_fractions, ["local", *args.engine_setups], model,
                                           args.ray_batch_size, args.predict_batch_size)
        print_engine_tables(engine_rows, facts, args.ray_batch_size, args.predict_batch_size)
        if model is None:
            print(f"Predictions not measured: no exported model at {args.model} (`make repro`, or `--model`).\n")
    train_rows = [] if "train" in args.skip else bench_train(args.train_sizes, args.train_kinds, args.seed)
    if train_rows:
        print("### Train vs training size (SemEval tweets, conf/model defaults; default model = tfidf_logreg)\n")
        print("| kind | n | x smallest n | fit s | fit s per 1k | x smallest fit | predict s per 1k |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for kind, size, fit_s, predict_s in train_rows:
            first = next(row for row in train_rows if row[0] == kind)
            print(f"| {kind} | {size:,} | {size / first[1]:g} | {fit_s:.2f} | {fit_s * 1000 / size:.2f} | "
                  f"{fit_s / first[2]:.1f} | {predict_s:.2f} |")
        print()
    if extract_rows or train_rows:
        plot(extract_rows, train_rows, args.plot)
        shown = args.plot.relative_to(ROOT / "docs") if args.plot.is_relative_to(ROOT / "docs") else args.plot
        print(f"![growth with corpus and training size]({shown})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
