"""New targets: the scaffold is complete and valid, and bad target files are one clear error."""
from __future__ import annotations

import pytest
import yaml

from pipeline.config import TargetConfig
from pipeline.errors import PipelineError, run_cli
from pipeline.target import check_selected, main, read_target, scaffold


def test_the_scaffold_has_every_field_commented_and_validates():
    text = scaffold("atlantis_2030", name="Atlantis independence referendum 2030")
    target = read_target(text, "atlantis_2030.yaml", expected_id="atlantis_2030")
    assert target.id == "atlantis_2030" and target.name == "Atlantis independence referendum 2030"
    assert set(yaml.safe_load(text)) == set(TargetConfig.model_fields), "a field of TargetConfig is missing"
    lines = text.splitlines()
    for field in TargetConfig.model_fields:  # each field is introduced by a comment saying what it is
        position = next(i for i, line in enumerate(lines) if line.startswith(f"{field}:"))
        assert lines[position - 1].startswith("#"), field


def test_the_scaffold_takes_what_the_user_knows():
    text = scaffold("atlantis_2030", description="Whether Atlantis leaves the Federation.",
                    terms=["independence referendum", "leave the Federation"], subject=["Atlantis", "Atlantean"])
    target = read_target(text, "x.yaml")
    assert target.terms == ["independence referendum", "leave the Federation"]
    assert target.subject == ["Atlantis", "Atlantean"] and target.description.startswith("Whether Atlantis")


def test_new_writes_the_file_and_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli(main, ["new", "atlantis_2030"]) == 0
    written = tmp_path / "conf" / "target" / "atlantis_2030.yaml"
    assert read_target(written.read_text(), written).id == "atlantis_2030"
    assert "dvc exp run -S target=atlantis_2030" in capsys.readouterr().err
    written.write_text(written.read_text() + "# my edits\n")
    assert run_cli(main, ["new", "atlantis_2030"]) == 2
    assert "exists already" in capsys.readouterr().err and written.read_text().endswith("# my edits\n")
    assert run_cli(main, ["new", "Not An Id"]) == 2
    assert "not a target id" in capsys.readouterr().err


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("terms: [", "terms: [[", 1), r"atlantis\.yaml:\d+: not valid YAML"),
    (lambda text: "\n".join(line for line in text.splitlines() if not line.startswith("subject:")),
     r"atlantis\.yaml \[subject\]: Field required"),
    (lambda text: text + "\ncolour: blue\n", r"atlantis\.yaml \[colour\]: unknown field"),
    (lambda text: text.replace("id: atlantis", "id: lemuria", 1), r"\[id\]: id 'lemuria' differs from the file name"),
])
def test_a_bad_target_file_is_one_error_naming_file_and_field(tmp_path, edit, message):
    path = tmp_path / "atlantis.yaml"
    path.write_text(edit(scaffold("atlantis")))
    with pytest.raises(PipelineError, match=message):
        read_target(path.read_text(), path, expected_id="atlantis")


def test_a_copied_file_that_keeps_the_selected_id_is_named(tmp_path):
    (tmp_path / "atlantis.yaml").write_text(scaffold("atlantis"))
    (tmp_path / "lemuria.yaml").write_text(scaffold("atlantis"))  # copied, id not changed
    with pytest.raises(PipelineError, match=r"lemuria\.yaml \[id\]: id 'atlantis' differs from the file name"):
        check_selected(tmp_path, "atlantis")
    check_selected(tmp_path, "other")  # files of other targets are not read
