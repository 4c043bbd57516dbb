"""Run every benchmark script and write docs/benchmarks.md: each table, the machine, the command.

Each script's output is kept in docs/bench/<script>.json (command, start time, wall seconds,
exit code, stdout), so one section can be rerun alone and the report reassembled from the rest:

    .venv/bin/python -m bench.report                        # every script (make bench)
    .venv/bin/python -m bench.report --only stance_quality  # rerun one, keep the others' saved output
    .venv/bin/python -m bench.report --assemble             # only rewrite docs/benchmarks.md
    .venv/bin/python -m bench.report --quick --output /tmp/bench.md   # smoke: tiny slices (CI)

A bench module with a `main()` that is not in SCRIPTS is run without arguments (so a new script
is never left out); a module without one (bench/polnear.py) is a library of the others. The
markdown is written atomically (temp file, then rename).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench import ROOT
from pipeline.files import atomic_open, write_json

SAVED = ROOT / "docs" / "bench"
OUTPUT = ROOT / "docs" / "benchmarks.md"
LIBRARIES = ("torch", "transformers", "sentence-transformers", "setfit", "scikit-learn", "spacy", "datasets",
             "mlflow", "dvc", "numpy")


@dataclass(frozen=True)
class Script:
    """How the report runs one script: its arguments, its smoke arguments, whether it prints markdown."""

    name: str
    title: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ("--quick",)
    markdown: bool = False
    section: str = ""  # the saved output's name when one script gives several sections (default: name)

    @property
    def key(self) -> str:
        return self.section or self.name


SCRIPTS: tuple[Script, ...] = (
    Script("stance_quality", "Stance quality on public datasets", markdown=True),
    Script("scale", "Speed and scale: repro, encode rate, ingest + extract vs corpus size",
           ("--skip", "engines", "train", "--fractions", "0.01", "0.1", "0.25", "1", "10", "100", "--plot",
            "docs/scale_extract.png"),
           markdown=True),
    Script("scale", "Speed and scale: train time vs training size", ("--skip", "repro", "encode", "extract",
           "engines", "--train-kinds", "tfidf_logreg", "tfidf_svm", "--plot", "docs/scale.png"),
           ("--quick",), markdown=True, section="scale_train"),
    Script("scale", "Speed and scale beyond one machine: the local engine and Ray",
           ("--skip", "repro", "encode", "extract", "train", "--engine-fractions", "1", "10",
            "--engine-setups", "Ray, 1 worker", "Ray, 2 workers on 2 nodes"),
           ("--quick", "--skip", "encode", "extract", "train"), markdown=True, section="scale_engines"),
    Script("extract_speed", "Extraction: quality on PolNeAR beside textacy and sayswho, speed against bare spaCy, "
                            "speaker attribution on the development sets"),
    Script("train_speed", "Training and prediction time per 1,000 examples"),
    Script("predict_overhead", "Predict overhead of the exported model"),
    Script("serve_load", "REST serving under load"),
    Script("label_agreement", "Speaker-level agreement of the weak labels with the corpus index"),
    Script("new_targets", "new_targets: speaker stance on referendums the rules were not written for", markdown=True),
)


def runnable_modules(folder: Path = ROOT / "bench") -> list[str]:
    """The bench modules that are scripts (define `main()`), never this driver."""
    return sorted(path.stem for path in folder.glob("*.py")
                  if path.stem != Path(__file__).stem and "\ndef main(" in path.read_text(encoding="utf-8"))


def scripts_present(folder: Path = ROOT / "bench") -> list[Script]:
    """The configured scripts that exist, then any other runnable bench module."""
    runnable = runnable_modules(folder)
    present = [script for script in SCRIPTS if script.name in runnable]
    known = {script.name for script in SCRIPTS}
    return present + [Script(name, name) for name in runnable if name not in known]


def command(script: Script, quick: bool) -> list[str]:
    return ["-m", f"bench.{script.name}", *(script.quick_args if quick else script.args)]


def with_args(scripts: list[Script], overrides: list[str]) -> list[Script]:
    """Scripts with the `NAME=ARGS` overrides of --args applied to their arguments."""
    given = dict(item.split("=", 1) for item in overrides)
    return [dataclasses.replace(script, args=tuple(shlex.split(given[script.key])))
            if script.key in given else script for script in scripts]


def interpreter() -> str:
    """How the report names the Python it ran: `.venv/bin/python` for the project's venv, else its path
    (e.g. a venv layered on it with textacy and sayswho for extract_speed, see that script)."""
    project = ROOT / ".venv" / "bin" / "python"
    return ".venv/bin/python" if Path(sys.executable) == project else sys.executable


def run_script(script: Script, quick: bool) -> dict:
    """Run one script from the project root; its stderr streams through, its stdout is kept."""
    argv = command(script, quick)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    print(f"== python -m bench.{script.name}", file=sys.stderr, flush=True)
    load_before = os.getloadavg()[0]
    completed = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    return {"name": script.name, "command": f"{interpreter()} " + shlex.join(argv),
            "started": started.strftime("%Y-%m-%d %H:%M UTC"), "seconds": round(time.perf_counter() - clock, 1),
            "returncode": completed.returncode, "stdout": completed.stdout, "quick": quick,
            # Other work on the machine slows every timing: the 1-minute load average before and after says how much.
            "load": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """CPU model, cores, RAM, OS, Python and the key library versions, as markdown lines."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    ram = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        ram = f"{kib / 1024 ** 2:.1f} GiB"
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    libraries = ", ".join(f"{name} {package_version(name)}" for name in LIBRARIES)
    return (f"- CPU: {cpu}, {os.cpu_count()} cores (no GPU used); RAM {ram}\n"
            f"- OS: {platform.platform()}; Python {platform.python_version()}\n"
            f"- libraries: {libraries}\n"
            f"- load average when the report was written (1/5/15 min): {load}")


def section(script: Script, saved: dict | None) -> str:
    if saved is None:
        return f"## {script.title}\n\nNot run yet: `.venv/bin/python -m bench.report --only {script.key}`.\n"
    status = "" if saved["returncode"] == 0 else f" **exited with code {saved['returncode']}**"
    body = saved["stdout"].rstrip() or "(no output)"
    if not script.markdown:
        body = f"```\n{body}\n```"
    quick = " **(quick smoke run: not real figures)**" if saved.get("quick") else ""
    load = f", 1-min load average {saved['load'][0]} before / {saved['load'][1]} after" if "load" in saved else ""
    return (f"## {script.title}\n\nReproduce: `{saved['command']}` (run {saved['started']}, "
            f"{saved['seconds']:.0f} s{load}){status}{quick}\n\n{body}\n")


def assemble(scripts: list[Script], saved: dict[str, dict]) -> str:
    parts = ["# Benchmarks\n",
             "Written by `make bench` (`python -m bench.report`): every script in `bench/`, its table, and the command "
             "that reproduces it. Speed figures are medians or best-of-several where the script says so; ratios "
             "are against a baseline measured in the same run. Each section gives the 1-minute load average "
             "before and after it ran: a load above the core count means other work shared the CPU and the "
             "times are inflated (ratios less so). Public datasets are read in place from "
             "`../shared/data` (their SOURCE.md files give origin, licence and counts); none is copied here.\n",
             "## Machine\n", machine() + "\n"]
    parts += [section(script, saved.get(script.key)) for script in scripts]
    return "\n".join(parts)


def load_saved(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="run only these sections (script names without .py, or a "
                                                      "section name such as scale_train)")
    parser.add_argument("--assemble", action="store_true", help="run nothing; rewrite the report from saved output")
    parser.add_argument("--quick", action="store_true", help="each script's smoke mode (tiny slices)")
    parser.add_argument("--args", action="append", default=[], metavar="NAME=ARGS",
                        help="run script NAME with ARGS instead of its defaults, e.g. 'stance_quality=--sets gwsd'")
    parser.add_argument("--output", type=Path, default=None, help=f"default {OUTPUT.relative_to(ROOT)}")
    parser.add_argument("--saved", type=Path, default=None, help=f"default {SAVED.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.args):
        parser.error("--args takes NAME=ARGS")
    scripts = with_args(scripts_present(), args.args)
    names = [script.key for script in scripts]
    unknown = sorted(set(args.only or []) - set(names))
    if unknown:
        parser.error(f"unknown script(s) {unknown}; known: {names}")
    # A smoke run never overwrites the real figures unless told where to write.
    saved_dir = args.saved or (SAVED if not args.quick else Path(os.environ.get("TMPDIR", "/tmp")) / "bench-quick")
    output = args.output or (OUTPUT if not args.quick else saved_dir / "benchmarks.md")
    failed = []
    if not args.assemble:
        smoked = set()
        for script in scripts:
            if args.only and script.key not in args.only or args.quick and script.name in smoked:
                continue  # a script that gives several sections needs one smoke run
            smoked.add(script.name)
            result = run_script(script, args.quick)
            write_json(saved_dir / f"{script.key}.json", result)
            if result["returncode"] != 0:
                failed.append(script.key)
    saved = {name: load_saved(saved_dir, name) for name in names}
    with atomic_open(output) as handle:
        handle.write(assemble(scripts, saved))
    print(f"wrote {output}" + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
