"""The bad-input catalogue: every stage's inputs broken the ways real files break.

Each case breaks one input of a project where every stage has already run once, then runs
the stage's CLI entry (`run_cli(main)`, what `python -m pipeline.<stage>` does). It must
exit 2 with one line that names the thing (file, line, field or key), and leave every earlier
output byte-for-byte as it was, with no temp file behind.

Covered elsewhere, by the same rule, and not repeated here: the reader-level cases of ingest
(tests/test_ingest.py), annotation CSVs and matching (test_label_annotations.py), records
(test_records.py), wrong column names in a labelled dataset (test_labelled_corpus.py), model
params and a missing `model_path` (test_models.py), config keys and overrides (test_config.py),
the predict CLI's bad JSON Lines and missing model (test_export.py), bad review files
(test_annotate.py) and bad REST payloads, deeply nested and huge JSON included (test_serving.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from helpers import REPO_ROOT, SEED_ARTICLE
from pipeline import evaluate, export, extract, ingest, label, split, train
from pipeline.errors import run_cli

STAGES = {"ingest": ingest.main, "extract": extract.main, "label": label.main, "split": split.main,
          "train": train.main, "evaluate": evaluate.main, "export": export.main}
ANNOTATIONS = "data/annotations/south_ossetia_referendum.csv"
DEEP_JSON = "[" * 100_000 + "]" * 100_000
MB = 1024 * 1024


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Path:
    """A project on the seed after ingest .. train (its own MLflow store), with a metrics file for export."""
    root = tmp_path_factory.mktemp("staged")
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["corpus"]["path"] = "articles"
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "articles").mkdir()
    shutil.copy(SEED_ARTICLE, root / "articles" / SEED_ARTICLE.name)
    (root / ANNOTATIONS).parent.mkdir(parents=True)
    shutil.copy(REPO_ROOT / ANNOTATIONS, root / ANNOTATIONS)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("DVC_ROOT", raising=False)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
        for name in ("ingest", "extract", "label", "split", "train"):
            assert STAGES[name]([]) == 0, name
    # What export needs from evaluate (running it costs a minute of cross-validation).
    (root / "reports/metrics.json").write_text(json.dumps({"macro_f1": 1.0, "protocol": "cross_validation"}))
    return root


@pytest.fixture
def project(staged, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the staged project, as the current folder."""
    root = tmp_path / "project"
    shutil.copytree(staged, root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    return root


def outputs(root: Path) -> dict[str, str]:
    """Every stage output under data/, reports/ and models/ with its content hash."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in ("data", "reports", "models") for path in sorted((root / folder).rglob("*"))
            if path.is_file()}


def write(relative: str, content: bytes | str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return apply


def append(relative: str, text: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    return apply


def remove(relative: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return apply


def set_param(key: str, value) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        params = yaml.safe_load((root / "params.yaml").read_text())
        *parents, last = key.split(".")
        node = params
        for part in parents:
            node = node[part]
        node[last] = value
        (root / "params.yaml").write_text(yaml.safe_dump(params))
    return apply


def huge_article(root: Path) -> None:
    """A 100 MB plain-text article: refused before it is read, so in well under a second."""
    paragraph = ('The minister said the vote "will have no legal force" and that talks go on. ' * 20 + "\n\n")
    with (root / "articles" / "huge.txt").open("w", encoding="utf-8") as handle:
        handle.write("A Headline Says Something\n\n")
        handle.write(paragraph * (100 * MB // len(paragraph) + 1))


def one_seed_line(root: Path) -> dict:
    return json.loads((root / "data/interim/articles.jsonl").read_text(encoding="utf-8").splitlines()[0])


def oversized_record(root: Path) -> None:
    """An articles.jsonl record whose body is over spaCy's limit (written by something other than ingest)."""
    record = one_seed_line(root)
    record["body"] = "Too long. " * 600_000
    (root / "data/interim/articles.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")


CASES = [
    # ingest: the article files
    ("ingest", write("articles/zz.png.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ["zz.png.txt", "binary file"]),
    ("ingest", write("articles/empty.txt", b""), ["empty.txt", "empty file"]),
    ("ingest", write("articles/latin1.txt", "Caf\u00e9 vote\n\nLe pr\u00e9sident a dit.".encode("latin-1")),
     ["latin1.txt", "not UTF-8"]),
    ("ingest", huge_article, ["huge.txt", "corpus.max_article_chars"]),
    ("ingest", write("articles/big.jsonl", json.dumps({"body": "Words and more words. " * 20_000}) + "\n"),
     ["big.jsonl:1", "440,000 characters", "corpus.max_article_chars"]),
    ("ingest", write("articles/deep.jsonl", '{"body": ' + DEEP_JSON + "}\n"), ["deep.jsonl:1", "nested too deeply"]),
    ("ingest", write("articles/half.jsonl", '{"title": "cut off", "body": "It was'),
     ["half.jsonl:1", "malformed JSON"]),
    ("ingest", remove("articles"), ["articles", "corpus folder not found"]),
    ("ingest", lambda root: [path.unlink() for path in (root / "articles").glob("*")],
     ["articles [corpus.path]", "no article files (.txt, .md, .html, .jsonl) in this folder"]),
    # extract: the ingest output
    ("extract", write("data/interim/articles.jsonl", b"\x00\x01\x02\xff"), ["articles.jsonl", "not UTF-8"]),
    ("extract", write("data/interim/articles.jsonl", DEEP_JSON + "\n"), ["articles.jsonl:1", "nested too deeply"]),
    ("extract", oversized_record, ["'000_85df15e701a7a6da'", "6,000,000 characters", "max_article_chars"]),
    ("extract", append("data/interim/articles.jsonl", '{"id": "x", "body": '), ["articles.jsonl:2", "malformed JSON"]),
    ("extract", append("data/interim/articles.jsonl", '{"id": "x", "title": 5}\n'),
     ["articles.jsonl:2", "invalid Article"]),
    ("extract", remove("data/interim/articles.jsonl"), ["articles.jsonl", "file not found"]),
    # label: the quotes and the gold annotations
    ("label", append(ANNOTATIONS, "q1,000_85df15e701a7a6da,maybe,,Some quote,\n"), ["csv:", "[label]", "'maybe'"]),
    ("label", append(ANNOTATIONS, "lost1,other_article,support,,A quote nobody extracted,\n"),
     ["match no quote", "lost1"]),
    ("label", lambda root: duplicate_with_other_label(root), ["csv", "conflict"]),
    ("label", write(ANNOTATIONS, "id,article,stance,text\nx,y,support,z\n"), ["csv:1", "bad header", "quote_id"]),
    ("label", write(ANNOTATIONS, b"quote_id,article_id,label,text\n\x00\xff\xfe,a,support,t\n"),
     ["south_ossetia_referendum.csv", "not UTF-8"]),
    ("label", write(ANNOTATIONS, b"quote_id,article_id,label,text\nq\x00,a,support,t\n"),
     ["south_ossetia_referendum.csv", "binary file"]),
    ("label", append("data/interim/quotes.jsonl", '{"id": "x"}\n'), ["quotes.jsonl:18", "invalid Quote"]),
    # split, train, evaluate, export: labelled quotes, the split, the model
    ("split", lambda root: relabel_first(root, "maybe"), ["labelled.jsonl:1", "[label]"]),
    ("train", remove("data/processed/split"), ["split", "split not found"]),
    ("evaluate", remove("data/processed/split"), ["split", "split not found"]),
    ("export", remove("models/candidate"), ["models/candidate"]),
    ("export", write("models/candidate/pipeline.skops", b"\x00not a zip"), ["pipeline.skops"]),
    # the configuration every stage reads
    ("extract", set_param("extract.batchsize", 8), ["params.yaml", "[extract.batchsize]", "unknown key"]),
    ("split", set_param("split.protocol", "sometimes"), ["params.yaml", "[split.protocol]"]),
    ("train", set_param("model.name", "no_such_kind"), ["no_such_kind"]),
    ("label", set_param("labeling.functions", ["cue_support", "mind_reading"]), ["[labeling.functions.1]"]),
]


def duplicate_with_other_label(root: Path) -> None:
    path = root / ANNOTATIONS
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[1].split(",")
    first[2] = "support" if first[2] != "support" else "oppose"
    path.write_text("\n".join([*lines, ",".join(first)]) + "\n", encoding="utf-8")


def relabel_first(root: Path, new_label: str) -> None:
    path = root / "data/processed/labelled.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["label"] = new_label
    path.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n", encoding="utf-8")


@pytest.mark.parametrize("stage, breakage, named", CASES,
                         ids=[f"{stage}-{index}" for index, (stage, _, _) in enumerate(CASES)])
def test_bad_input_is_one_line_exit_2_and_earlier_outputs_stay(project, capsys, stage, breakage, named):
    breakage(project)
    before = outputs(project)
    capsys.readouterr()
    assert run_cli(STAGES[stage], []) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for fragment in named:
        assert fragment in lines[0], (fragment, lines[0])
    assert outputs(project) == before
    leftovers = [path for path in project.rglob(".*") if path.name.endswith((".tmp", ".old"))]
    assert leftovers == []


def test_ctrl_c_that_a_library_swallows_still_stops_the_stage_before_it_writes(tmp_path, capsys):
    from pipeline.errors import run_cli
    from pipeline.files import write_json

    def main(argv):
        try:  # what a bare `except:` in a library does with the KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except:  # noqa: E722
            pass
        write_json(tmp_path / "out.json", {"written": True})
        return 0

    handler = signal.getsignal(signal.SIGINT)
    assert run_cli(main, []) == 130
    assert capsys.readouterr().err == "interrupted: earlier outputs are left as they were\n"
    assert list(tmp_path.iterdir()) == []  # neither the output nor its temp file
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's handler is back
    write_json(tmp_path / "out.json", {})  # and the remembered interrupt is not carried into the next run
    assert run_cli(lambda argv: 0, []) == 0


def test_ctrl_c_inside_a_library_import_is_an_interrupt_not_a_traceback(capsys):
    from pipeline.errors import run_cli

    def main(argv):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise ImportError("initialization failed") from interrupt

    assert run_cli(main, []) == 130
    assert capsys.readouterr().err == "interrupted: earlier outputs are left as they were\n"

    def broken(argv):
        raise ValueError("a real bug")

    with pytest.raises(ValueError):
        run_cli(broken, [])
