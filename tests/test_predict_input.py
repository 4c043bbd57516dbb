"""predict's inputs broken the ways the README promises to handle: input the model would refuse
(an empty --text, a JSON Lines text over the contract's 20,000 characters, a wrong type) and input
paths that are not regular files (a FIFO, a device, symlinks to them, a symlink loop). Each is one
line naming the file, line or option, exit code 2, and nothing on stdout; nothing hangs or reads
without end."""
from __future__ import annotations

import contextlib
import json
import re
import signal

import pytest

from helpers import special_files
from pipeline.errors import run_cli
from pipeline.serving.contract import MAX_TEXT_CHARS


@contextlib.contextmanager
def no_hang(seconds: int = 30):
    """Fail instead of hanging (a blocking open() of a FIFO with no writer never returns)."""
    def give_up(signum, frame):
        raise AssertionError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refused(capsys, exported, *argv: str) -> str:
    """Run predict on the tiny model; it must exit 2 with one line on stderr and nothing on stdout."""
    from pipeline.predict import main

    with no_hang():
        code = run_cli(main, [*argv, "--model", str(exported[0] / "stance")])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "", captured
    [line] = captured.err.strip().splitlines()
    return line


def jsonl(tmp_path, *rows: dict) -> str:
    path = tmp_path / "quotes.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def run_on_article(tmp_path) -> str:
    """An article whose one sentence of 55,000 characters extracts as reported speech longer than a quote can be."""
    filler = "the minister spoke about the vote and the region and the law " * 440
    path = tmp_path / "run-on.txt"
    path.write_text(f"A headline about a vote\n\n{filler} the minister said we will never accept it and {filler}\n")
    return str(path)


@pytest.mark.parametrize("argv, named", [
    (lambda tmp: ["--text", ""], r"\[--text\] text is empty"),
    (lambda tmp: ["--text", "  \n "], r"\[--text\] text is empty"),
    (lambda tmp: ["--text", "x" * (MAX_TEXT_CHARS + 1)], r"\[--text\] text is longer than 20000 characters"),
    (lambda tmp: ["--text", "fine", "--speaker", "y" * (MAX_TEXT_CHARS + 1)],
     r"\[--speaker\] speaker is longer than 20000"),
    (lambda tmp: ["--jsonl", jsonl(tmp, {"text": "fine"}, {"text": "z" * (MAX_TEXT_CHARS + 1)})],
     r"quotes\.jsonl:2 \[text\]: text is longer than 20000 characters"),
    (lambda tmp: ["--jsonl", jsonl(tmp, {"text": "fine", "context": "c" * (MAX_TEXT_CHARS + 1)})],
     r"quotes\.jsonl:1 \[context\]: context is longer than 20000 characters"),
    (lambda tmp: ["--jsonl", jsonl(tmp, {"text": "fine", "speaker": 5})],
     r"quotes\.jsonl:1 \[speaker\]: speaker input should be a valid string"),
], ids=["empty text", "blank text", "long text", "long speaker", "long jsonl text", "long jsonl context",
        "jsonl speaker not a string"])
def test_input_the_model_would_refuse_is_one_line_and_exit_2(exported, tmp_path, capsys, argv, named):
    line = refused(capsys, exported, *argv(tmp_path))
    assert re.search(named, line), line


def test_an_article_with_a_run_on_quote_is_classified_from_what_the_model_reads(exported, tmp_path, capsys):
    """A quote extracted longer than a request may be is cut to the request limit, not refused:
    the article's other quotes and the speaker table still come out."""
    from pipeline.errors import run_cli
    from pipeline.predict import main

    assert run_cli(main, ["--article", run_on_article(tmp_path), "--model", str(exported[0] / "stance")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and max(len(row["text"]) for row in rows) > 20_000 and all(row["label"] for row in rows)


@pytest.mark.parametrize("option", ["--article", "--jsonl"])
def test_an_input_path_that_is_not_a_regular_file_is_refused_unread(exported, tmp_path, capsys, option):
    """/dev/zero would be read without end, a FIFO with no writer blocks forever: both are refused
    before they are opened, as are symlinks to them, loops and links to nothing."""
    for name, kind in special_files(tmp_path).items():
        line = refused(capsys, exported, option, str(tmp_path / name))
        assert line == f"error: {tmp_path / name}: not a regular file ({kind}): refused unread", line
