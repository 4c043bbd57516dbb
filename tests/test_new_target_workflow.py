"""The README's "Your own referendum", run as written on a development set nobody here annotated."""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess

import pytest

from helpers import REPO_ROOT, VENV_BIN, project_copy

pytestmark = pytest.mark.slow

DEV_SET = "ireland_eighth_amendment_2018"


def readme_commands(section: str) -> list[str]:
    """The command lines (not comments, not `make setup`) of a README section's first code block."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", body, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines()
            if line.strip() and not line.startswith("#") and not line.startswith("make setup")]


def test_your_own_referendum_runs_as_the_readme_says(tmp_path, shared):
    articles = shared / "corpus_dev" / DEV_SET / "articles"
    project = project_copy(tmp_path / "project")
    (project / ".venv").symlink_to(VENV_BIN.parent)  # what `make setup` leaves behind
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "DVC_ROOT", "MLFLOW_TRACKING_URI")}
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: no venv on PATH
    commands = readme_commands("Your own referendum")
    assert [command.split()[:4] for command in commands] == [
        ["bin/python", "-m", "pipeline.target", "new"], ["bin/dvc", "exp", "run", "-S"],
        ["bin/python", "-m", "pipeline.predict", "--article"]]
    outputs = []
    for command in commands:
        argv = [str(articles) if word == "/path/to/articles" else word for word in shlex.split(command)]
        argv = [f"corpus.path={articles}" if word == "corpus.path=/path/to/articles" else word for word in argv]
        done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        outputs.append(done.stdout)
        if "pipeline.target new" in command:  # the user's edit: the development set's config, camps as organisations
            config = REPO_ROOT / "conf" / "target" / f"{DEV_SET}.yaml"
            if config.is_file():
                text = config.read_text(encoding="utf-8").replace(f"id: {DEV_SET}", "id: my_referendum", 1)
                (project / "conf" / "target" / "my_referendum.yaml").write_text(text, encoding="utf-8")

    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    assert (metrics["protocol"], metrics["macro_f1"]) == ("none", None)
    assert metrics["note"].startswith("no gold labels: not evaluated")
    assert json.loads((project / "reports" / "export.json").read_text())["alias"] == "candidate"

    predictions = [json.loads(line) for line in (project / "reports" / "predictions.jsonl").read_text().splitlines()]
    assert len({row["article_id"] for row in predictions}) == len(list(articles.glob("*.txt")))
    assert all(set(row) == {"article_id", "id", "speaker", "speaker_role", "text", "kind", "label", "scores",
                            "stance", "stance_score", "stance_source"} for row in predictions)
    sources = {row["stance_source"] for row in predictions}
    assert "weak" in sources and sources <= {"weak", "model"}  # no gold: weak labels where a function voted
    with (project / "reports" / "speakers.csv").open(encoding="utf-8") as handle:
        speakers = list(csv.DictReader(handle))
    corpus = [row for row in speakers if row["scope"] == "corpus"]
    assert len(corpus) >= 10 and {row["stance"] for row in corpus} <= {"support", "oppose", "neutral"}
    assert sum(int(row["quotes"]) for row in corpus) == sum(1 for row in predictions if row["speaker"])
    page = (project / "reports" / "stance_report.html").read_text(encoding="utf-8")
    assert page.count("<tr class='speaker'>") == len(corpus)
    table = outputs[-1].splitlines()
    assert table[0].split()[:3] == ["speaker", "scope", "stance"] and len(table) > len(corpus)
