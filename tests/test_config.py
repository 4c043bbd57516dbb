"""conf/ composes, validates, and matches the committed params.yaml."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from helpers import REPO_ROOT
from pipeline.config import Params, compose, load_params, validate_params
from pipeline.errors import PipelineError

CONF = REPO_ROOT / "conf"
GROUPS = ["corpus", "target", "extract", "labeling", "split", "model", "predict", "tracking"]


def group_options() -> list[tuple[str, str]]:
    return [(group, path.stem) for group in GROUPS for path in sorted((CONF / group).glob("*.yaml"))]


def test_config_has_every_group():
    defaults = yaml.safe_load((CONF / "config.yaml").read_text())["defaults"]
    named = {next(iter(item)) for item in defaults if isinstance(item, dict)}
    assert named == set(GROUPS)
    assert all((CONF / group).is_dir() and list((CONF / group).glob("*.yaml")) for group in GROUPS)


@pytest.mark.parametrize(("group", "option"), group_options())
def test_every_group_option_composes_and_validates(group, option):
    params = validate_params(compose(CONF, [f"{group}={option}"]))
    assert isinstance(params, Params)
    if group in ("model", "corpus"):
        assert getattr(params, group).name == option


def test_committed_params_match_conf():
    """Fails when someone edits conf/ without recomposing params.yaml (or edits params.yaml by hand)."""
    committed = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    assert committed == compose(CONF), "params.yaml drifted from conf/: run `python -m pipeline.config`"


def test_drift_check_notices_an_edit(tmp_path):
    conf = tmp_path / "conf"
    subprocess.run(["cp", "-r", str(CONF), str(conf)], check=True)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    check = [sys.executable, "-m", "pipeline.config", "--check"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 0
    split = conf / "split" / "default.yaml"
    split.write_text(split.read_text().replace("cv_folds: 5", "cv_folds: 3"))
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 1
    subprocess.run([sys.executable, "-m", "pipeline.config"], cwd=tmp_path, check=True, capture_output=True)
    assert yaml.safe_load((tmp_path / "params.yaml").read_text())["split"]["cv_folds"] == 3


def test_override_applies():
    params = validate_params(compose(CONF, ["model=tfidf_svm", "split.cv_folds=3"]))
    assert params.model.name == "tfidf_svm"
    assert params.split.cv_folds == 3


def test_unknown_key_is_named():
    data = compose(CONF)
    data["split"]["cv_fold"] = 3
    with pytest.raises(PipelineError, match=r"\[split\.cv_fold\].*unknown key"):
        validate_params(data)


def test_wrong_type_is_named():
    data = compose(CONF)
    data["extract"]["batch_size"] = "many"
    with pytest.raises(PipelineError, match=r"\[extract\.batch_size\]"):
        validate_params(data)


def test_unknown_override_is_a_clear_error():
    with pytest.raises(PipelineError, match="cannot compose"):
        compose(CONF, ["model=no_such_model"])


def test_load_params_names_the_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump({**compose(CONF), "sede": 1}))
    with pytest.raises(PipelineError, match=r"params.yaml \[sede\]: unknown key"):
        load_params(bad)


def test_cli_reports_a_bad_params_file_in_one_line(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({**compose(CONF), "sede": 1}))
    (tmp_path / "seeds").mkdir()
    done = subprocess.run([sys.executable, "-m", "pipeline.ingest"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {tmp_path / 'params.yaml'} [sede]: unknown key"]
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("breakage, argv, named", [
    pytest.param(lambda conf: (conf / "split" / "default.yaml").write_text("protocol: auto\ncv_folds: [5\n"), [],
     r"default\.yaml:3: not valid YAML: expected ',' or '\]', but got '<stream end>'", id="syntax error"),
    pytest.param(lambda conf: (conf / "config.yaml").write_text((conf / "config.yaml").read_text() + "\tseed: 1\n"), [],
     r"config\.yaml:\d+: not valid YAML: found character '\\t' that cannot start any token", id="tab"),
    pytest.param(lambda conf: None, ["model=no_such_model"], r"Could not find 'model/no_such_model'.*tfidf_logreg",
                 id="unknown option"),
])
def test_a_broken_conf_is_one_line_and_exit_2_under_make_repro(tmp_path, breakage, argv, named):
    """`make repro` runs `python -m pipeline.config` first: a YAML syntax error in conf/ or a bad
    override is one line naming the file and line (or the option), exit 2, params.yaml untouched."""
    subprocess.run(["cp", "-r", str(CONF), str(tmp_path / "conf")], check=True)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    breakage(tmp_path / "conf")
    done = subprocess.run([sys.executable, "-m", "pipeline.config", *argv], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})  # this checkout's code
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert re.search(named, line), line
    assert (tmp_path / "params.yaml").read_text() == (REPO_ROOT / "params.yaml").read_text()
