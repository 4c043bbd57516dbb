"""Records validate strictly, ids are stable, and outputs are written atomically."""
from __future__ import annotations

import pytest

from pipeline.errors import PipelineError
from pipeline.files import UMASK, atomic_dir, atomic_open, read_jsonl, write_jsonl
from pipeline.records import Quote, quote_id, read_records, write_records

QUOTE = {"id": "q", "article_id": "a", "text": "We will vote", "kind": "direct", "cue": "said",
         "speaker": "Anatoly Bibilov", "speaker_mention": "Bibilov", "speaker_role": None,
         "start": 0, "end": 12, "sentence": "\"We will vote,\" Bibilov said."}


def test_quote_id_survives_trivial_re_extraction_changes():
    assert quote_id("a", "\u201cWe  will\nvote\u201d") == quote_id("a", '"we will vote"')
    assert quote_id("a", "We will vote") != quote_id("b", "We will vote")
    assert quote_id("a", "We will vote") != quote_id("a", "We will not vote")


def test_round_trip(tmp_path):
    path = tmp_path / "quotes.jsonl"
    write_records(path, [Quote(**QUOTE)])
    assert list(read_records(path, Quote)) == [Quote(**QUOTE)]


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "rumour"}, "kind"),
    ({"start": "0"}, "start"),
    ({"colour": "red"}, "colour"),
])
def test_bad_record_names_file_line_and_field(tmp_path, change, field):
    path = tmp_path / "quotes.jsonl"
    write_jsonl(path, [QUOTE, {**QUOTE, **change}])
    with pytest.raises(PipelineError, match=rf"quotes.jsonl:2 \[{field}\]: invalid Quote"):
        list(read_records(path, Quote))


def test_missing_field_is_named(tmp_path):
    path = tmp_path / "quotes.jsonl"
    write_jsonl(path, [{key: value for key, value in QUOTE.items() if key != "speaker"}])
    with pytest.raises(PipelineError, match=r"\[speaker\]: invalid Quote: Field required"):
        list(read_records(path, Quote))


def test_malformed_and_deeply_nested_json(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(PipelineError, match=r"x.jsonl:2: expected a JSON object"):
        list(read_jsonl(path))
    path.write_text("[" * 100000 + "]" * 100000 + "\n")
    with pytest.raises(PipelineError, match=r"x.jsonl:1: "):
        list(read_jsonl(path))


def test_atomic_outputs_get_ordinary_permissions_not_the_temp_files_private_ones(tmp_path):
    with atomic_open(tmp_path / "out.json") as handle:
        handle.write("{}")
    with atomic_dir(tmp_path / "folder") as folder:
        (folder / "inside.txt").write_text("x")
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o666 & ~UMASK
    assert (tmp_path / "folder").stat().st_mode & 0o777 == 0o777 & ~UMASK


def test_atomic_open_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(path) as handle:
        handle.write("half of the new")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
