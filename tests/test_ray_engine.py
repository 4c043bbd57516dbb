"""The `ray` engine (extract.engine / predict.engine: ray, pipeline/ray_engine.py).

Slow tests run the stages as a user would (`python -m pipeline.extract` with RAY_ADDRESS) on a real
two-node Ray cluster on this machine (ray.cluster_utils.Cluster: two raylets of one CPU each, their
own ports, one temp dir of the test's), against the local engine on the same PolNeAR articles: the
same bytes out, also with a worker killed mid-run, a corrupt article in a batch, or Ctrl-C; and no
Ray process left behind. The fast tests cover the pieces: the line reader, the address check, the
local engine's skip mode and the article named when the rules fail.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from helpers import REPO_ROOT, SHARED, VENV_BIN, free_port
from pipeline.config import ExtractConfig
from pipeline.engines import file_lines, numbered_lines, outputs
from pipeline.errors import PipelineError
from pipeline.extract import ExtractWorker
from pipeline.ray_engine import local_cluster
from pipeline.records import Article, write_records

ARTICLES = 24  # PolNeAR train articles: 6 batches of 4 on the cluster
CLUSTER_CPUS = 1  # per node: the machine has two cores, shared


# ---- fast: the pieces -------------------------------------------------------------------------------------------

def test_lines_are_numbered_across_chunk_boundaries_and_read_alike_by_both_engines(tmp_path):
    lines = [b'{"a": 1}', b"", b'{"b": "caf\xc3\xa9"}', b"not json", b"\xff\xfe", b'{"last": "no newline"}']
    data = b"\n".join(lines)
    expected = list(enumerate(lines, start=1))
    for size in (1, 3, 7, len(data)):
        assert list(numbered_lines(data[i:i + size] for i in range(0, len(data), size))) == expected
    path = tmp_path / "x.jsonl"
    path.write_bytes(data + b"\n")
    assert list(file_lines(path)) == expected  # the local engine's read; a final newline adds no line


@pytest.mark.parametrize(("address", "message"), [
    (f"127.0.0.1:{free_port()}", "no Ray cluster answers at 127.0.0.1:"),
    ("ray://127.0.0.1:10001", "Ray Client addresses (ray://) are not supported"),
    ("head-node", "'head-node' is not host:port"),
])
def test_a_ray_address_nothing_answers_at_is_one_line_naming_it(address, message):
    from pipeline.ray_engine import check_reachable

    with pytest.raises(PipelineError) as caught:
        check_reachable(address, timeout=2)
    assert caught.value.field == "RAY_ADDRESS" and message in caught.value.message
    assert "\n" not in str(caught.value)


def article_line(article_id: str, body: str) -> bytes:
    article = Article(id=article_id, title=body.split("\n")[0], body=body, sha256="0" * 64, path=f"{article_id}.txt")
    return json.dumps(article.model_dump(mode="json")).encode()


TWO_QUOTES = 'Vote Set\n\n"We will hold the vote," the minister said.\n\nThe mayor said the plan would fail.'


def test_the_local_engine_skips_and_lists_a_corrupt_article_with_on_error_skip(tmp_path):
    lines = [(1, article_line("a", TWO_QUOTES)), (2, b'{"id": "b", "body": '), (3, b""),
             (4, article_line("c", TWO_QUOTES.replace("minister", "premier"))), (5, b'{"id": "d", "title": 5}')]
    outcomes = ExtractWorker(ExtractConfig(), "articles.jsonl")(lines)
    assert [outcome.line for outcome in outcomes] == [1, 2, 4, 5]
    skipped: list[dict] = []
    kept = list(outputs(outcomes, "skip", skipped))
    assert [[quote["article_id"] for quote in quotes] for quotes in kept] == [["a", "a"], ["c", "c"]]
    assert [entry["line"] for entry in skipped] == [2, 5]
    assert skipped[0]["error"].startswith("articles.jsonl:2: malformed JSON")
    assert skipped[1]["error"].startswith("articles.jsonl:5 [title]: invalid Article")
    with pytest.raises(PipelineError, match=r"^articles.jsonl:2: malformed JSON"):
        list(outputs(outcomes, "fail"))


def test_an_article_the_rules_fail_on_is_named_and_the_others_still_extracted(tmp_path, monkeypatch):
    import pipeline.extract

    real = pipeline.extract.extract_quotes

    def fails_on_b(doc, article_id, **options):
        if article_id == "b":
            raise IndexError("list index out of range")
        return real(doc, article_id, **options)

    monkeypatch.setattr(pipeline.extract, "extract_quotes", fails_on_b)
    lines = [(number, article_line(name, TWO_QUOTES)) for number, name in enumerate("abc", start=1)]
    outcomes = ExtractWorker(ExtractConfig(), "articles.jsonl")(lines)
    assert [outcome.error is None for outcome in outcomes] == [True, False, True]
    assert all(len(outcome.output) == 2 for outcome in outcomes if outcome.error is None)
    with pytest.raises(PipelineError) as caught:
        list(outputs(outcomes, "fail"))
    assert str(caught.value) == ("articles.jsonl:2 [article b]: extraction failed: IndexError: "
                                 "list index out of range")


# ---- slow: a real cluster ---------------------------------------------------------------------------------------

def ray_processes_under(temp_dir: str) -> list[psutil.Process]:
    """Processes of the cluster whose temp dir is `temp_dir` (raylets, GCS, agents name it) and their workers."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(temp_dir in part for part in process.info["cmdline"] or []):
                found.append(process)
                found.extend(process.children(recursive=True))
    return found


@contextlib.contextmanager
def two_node_cluster() -> Iterator[str]:
    """A head and a worker node of CLUSTER_CPUS each (pipeline.ray_engine.local_cluster); yields the address to give
    as RAY_ADDRESS. Afterwards every process of it must be gone. The nodes take this machine's address, as
    `ray start` does (Ray turns a loopback address into that one when a driver joins); a module fixture, so that
    Ray finding that address is not taken for network access by the per-test guard."""
    with local_cluster(nodes=2, cpus_per_node=CLUSTER_CPUS) as (address, temp_dir):
        yield address
    _, alive = psutil.wait_procs(ray_processes_under(temp_dir), timeout=30)
    assert not alive, f"Ray processes left after the cluster stopped: {alive}"


def set_params(project: Path, **values) -> None:
    """params.yaml with `values` set (dotted keys, `__` for the dots)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    for key, value in values.items():
        *parents, last = key.split("__")
        node = params
        for part in parents:
            node = node[part]
        node[last] = value
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def stage_env(ray_address: str | None) -> dict[str, str]:
    """The repo's code first (the project is a bare folder), the venv's bin on PATH, RAY_ADDRESS as given."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    for name in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI", "DVC_ROOT"):
        env.pop(name, None)
    if ray_address:
        env["RAY_ADDRESS"] = ray_address
    return env


def stage(project: Path, module: str, *args: str, ray_address: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=project, env=stage_env(ray_address),
                          capture_output=True, text=True, timeout=1200)  # a hang guard, not a timing


def error_line(done: subprocess.CompletedProcess) -> str:
    """The one `error:` line a failed stage printed (Ray's own log lines aside)."""
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert done.returncode == 2 and len(errors) == 1, done.stderr[-3000:]
    return errors[0]


def exported_model(folder: Path, params_path: Path) -> None:
    """A small tfidf_logreg with speaker input, exported as the export stage does, at folder/stance."""
    from pipeline.config import ModelConfig, load_params
    from pipeline.export import input_example, model_files, save_exported
    from pipeline.models import build_model

    examples = [("We will hold the referendum and the people will decide", "support"),
                ("The vote is illegal and its result will never be recognised", "oppose"),
                ("Polling stations open at eight in the morning", "neutral"),
                ("This referendum is our historic right", "support"),
                ("It is a sham held under occupation", "oppose"),
                ("The commission will count the ballots on Monday", "neutral")]
    model = build_model(ModelConfig(name="tfidf_logreg", inputs=["text", "speaker"]), seed=0)
    model.fit([{"text": text, "speaker": "x"} for text, _ in examples], [label for _, label in examples])
    model.save(folder / "candidate")
    params = load_params(params_path)
    staging = folder / "staging"
    staging.mkdir()
    files = model_files(params, folder / "candidate", staging)
    save_exported(files, input_example([{"text": text} for text, _ in examples[:2]], params.target.name),
                  folder / "stance")
    shutil.rmtree(staging)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    if not (SHARED / "data" / "polnear").is_dir():
        pytest.skip("../shared/data/polnear is not present")
    with two_node_cluster() as address:
        yield address


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A bare project: params.yaml (small Ray batches), the ingested PolNeAR articles, an exported model, and the
    local engine's outputs (`local/`) to compare with."""
    polnear = SHARED / "data" / "polnear" / "train" / "text"
    if not polnear.is_dir():
        pytest.skip("../shared/data/polnear is not present")
    from pipeline.ingest import ingest_files

    root = tmp_path_factory.mktemp("ray-project")
    shutil.copy(REPO_ROOT / "params.yaml", root / "params.yaml")
    (root / "dvc.yaml").write_text("stages: {}\n")
    set_params(root, extract__ray__batch_size=4, extract__ray__workers=2, predict__ray__batch_size=100,
               predict__ray__workers=2, predict__corpus_stance="model")  # no label stage here: the classifier answers
    articles = ingest_files(sorted(polnear.glob("*.txt"))[:ARTICLES]).articles
    write_records(root / "data" / "interim" / "articles.jsonl", articles)
    exported_model(root / "models", root / "params.yaml")
    for module, args in (("pipeline.extract", ()), ("pipeline.predict", ("--corpus",))):
        done = stage(root, module, *args)
        assert done.returncode == 0, done.stderr
    (root / "local").mkdir()
    for name in LOCAL_OUTPUTS:
        shutil.copy(root / name, root / "local" / Path(name).name)
    return root


LOCAL_OUTPUTS = ("data/interim/quotes.jsonl", "reports/extract.json", "reports/predictions.jsonl",
                 "reports/speakers.csv", "reports/stance_report.html")


def same_as_local(project: Path, *names: str) -> None:
    for name in names:
        assert (project / name).read_bytes() == (project / "local" / Path(name).name).read_bytes(), name


def map_workers(parent: psutil.Process, busy: bool = False) -> list[psutil.Process]:
    """The Ray Data actors among `parent`'s descendants (process title `ray::MapWorker(...)`); with `busy`,
    those inside a batch (Ray titles an actor `<class>.submit` while it runs a call)."""
    found = []
    for child in parent.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            title = child.cmdline()[0] if child.cmdline() else ""
            if title.startswith("ray::MapWorker") and (not busy or title.endswith(".submit")):
                found.append(child)
    return found


@pytest.mark.slow
def test_extract_and_predict_on_two_nodes_write_what_the_local_engine_writes(cluster, project):
    set_params(project, extract__engine="ray", predict__engine="ray")
    try:
        done = stage(project, "pipeline.extract", ray_address=cluster)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "(ray engine)" in done.stderr
        same_as_local(project, "data/interim/quotes.jsonl", "reports/extract.json")
        done = stage(project, "pipeline.predict", "--corpus", ray_address=cluster)
        assert done.returncode == 0, done.stderr[-3000:]
        same_as_local(project, "reports/predictions.jsonl", "reports/speakers.csv", "reports/stance_report.html")
    finally:
        set_params(project, extract__engine="local", predict__engine="local")
    _, alive = psutil.wait_procs(map_workers(psutil.Process()), timeout=60)
    assert not alive, "the job's actors outlived it"


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_replaced_and_the_output_is_the_same(cluster, project):
    """SIGKILL one actor while it works on a batch: Ray restarts it and retries the batch."""
    set_params(project, extract__engine="ray")
    (project / "data/interim/quotes.jsonl").unlink()
    env = stage_env(cluster)
    killed: list[str] = []
    try:
        running = subprocess.Popen([sys.executable, "-m", "pipeline.extract"], cwd=project, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        stderr: list[str] = []
        reader = threading.Thread(target=lambda: stderr.extend(running.stderr), daemon=True)
        reader.start()
        for _ in range(3000):  # a hang guard: wait for an actor to be inside a batch
            busy = map_workers(psutil.Process(), busy=True)
            if busy or running.poll() is not None:
                break
            time.sleep(0.1)
        assert busy and running.poll() is None, "no actor got to work before the stage ended"
        assert not (project / "data/interim/quotes.jsonl").exists()  # mid-run: nothing written yet
        killed.append(busy[0].cmdline()[0])
        busy[0].send_signal(signal.SIGKILL)
        assert running.wait(timeout=1200) == 0, "".join(stderr)[-3000:]
        reader.join(timeout=10)
    finally:
        set_params(project, extract__engine="local")
    assert killed and killed[0].endswith(".submit")
    same_as_local(project, "data/interim/quotes.jsonl", "reports/extract.json")


def corrupt_articles(project: Path) -> None:
    """Line 6 cut short, line 10 with a title that is a number: inside the second and third batch of 4."""
    path = project / "data/interim/articles.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5][:200]
    record = json.loads(lines[9])
    record["title"] = 5
    lines[9] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_a_corrupt_article_in_a_ray_batch_is_the_local_error_or_is_skipped_and_listed(cluster, project, tmp_path):
    copy = tmp_path / "corrupt"
    shutil.copytree(project, copy)
    corrupt_articles(copy)
    before = (copy / "data/interim/quotes.jsonl").read_bytes()
    local = error_line(stage(copy, "pipeline.extract"))
    assert local.startswith("error: data/interim/articles.jsonl:6: malformed JSON"), local
    set_params(copy, extract__engine="ray")
    assert error_line(stage(copy, "pipeline.extract", ray_address=cluster)) == local
    assert (copy / "data/interim/quotes.jsonl").read_bytes() == before  # nothing half written

    set_params(copy, corpus__on_error="skip")
    assert stage(copy, "pipeline.extract", ray_address=cluster).returncode == 0
    on_ray = [(copy / name).read_bytes() for name in ("data/interim/quotes.jsonl", "reports/extract.json")]
    set_params(copy, extract__engine="local")
    assert stage(copy, "pipeline.extract").returncode == 0
    assert [(copy / name).read_bytes() for name in ("data/interim/quotes.jsonl", "reports/extract.json")] == on_ray
    summary = json.loads(on_ray[1])
    assert summary["articles"] == ARTICLES - 2 and summary["articles_skipped"] == 2
    assert [entry["line"] for entry in summary["skipped"]] == [6, 10]
    assert "[title]" in summary["skipped"][1]["error"]


@pytest.mark.slow
def test_an_unreachable_ray_address_is_one_line(project):
    set_params(project, extract__engine="ray")
    try:
        done = stage(project, "pipeline.extract", ray_address=f"127.0.0.1:{free_port()}")
    finally:
        set_params(project, extract__engine="local")
    line = error_line(done)
    assert line.startswith("error: [RAY_ADDRESS] no Ray cluster answers at 127.0.0.1:"), line
    same_as_local(project, "data/interim/quotes.jsonl")


@pytest.mark.slow
def test_ctrl_c_on_a_local_ray_instance_writes_nothing_and_leaves_no_ray_process(project, tmp_path):
    """Without RAY_ADDRESS the stage starts its own Ray; Ctrl-C (SIGINT to the terminal's process group, so Ray's
    processes get it too) while an actor works: exit 130, the old output as it was, every Ray process gone."""
    copy = tmp_path / "interrupted"
    shutil.copytree(project, copy)
    set_params(copy, extract__engine="ray", extract__ray__workers=1)
    before = (copy / "data/interim/quotes.jsonl").read_bytes()
    running = subprocess.Popen([sys.executable, "-m", "pipeline.extract"], cwd=copy, env=stage_env(None),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    stage_process = psutil.Process(running.pid)
    descendants: dict[int, psutil.Process] = {}
    for _ in range(3000):  # a hang guard: until an actor works on a batch
        with contextlib.suppress(psutil.Error):
            descendants.update({child.pid: child for child in stage_process.children(recursive=True)})
        if map_workers(stage_process, busy=True) or running.poll() is not None:
            break
        time.sleep(0.1)
    assert running.poll() is None, "the stage ended before an actor worked"
    assert any("raylet" in " ".join(process.cmdline()) for process in descendants.values())
    os.killpg(running.pid, signal.SIGINT)
    _, stderr = running.communicate(timeout=300)
    assert running.returncode == 130, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == "interrupted: earlier outputs are left as they were"
    assert (copy / "data/interim/quotes.jsonl").read_bytes() == before
    assert sorted(path.name for path in (copy / "data/interim").iterdir()) == ["articles.jsonl", "quotes.jsonl"]
    _, alive = psutil.wait_procs(list(descendants.values()), timeout=60)
    assert not alive, [process.pid for process in alive]


@pytest.mark.slow
def test_the_readme_command_runs_extract_and_predict_on_the_cluster_through_dvc(cluster, pipeline_project, tmp_path):
    """`RAY_ADDRESS=... bin/dvc exp run -S extract.engine=ray -S predict.engine=ray` in a project that ran: both
    stages run again, on the cluster, and their outputs are the ones the local engine then writes in their place
    (`-S` composes conf/ again, so whatever earlier tests left in params.yaml may retrain: compare with a local
    run of the same configuration, not with the files before)."""
    project = tmp_path / "project"
    shutil.copytree(pipeline_project, project, symlinks=True)
    (project / ".venv").symlink_to(VENV_BIN.parent)
    outputs = ("data/interim/quotes.jsonl", "reports/predictions.jsonl", "reports/speakers.csv")
    env = {**stage_env(cluster), "PATH": "/usr/bin:/bin", "CI": "true"}
    env.pop("PYTHONPATH")  # the project's own copy of the code, as for a user

    def exp_run(engine: str) -> str:
        done = subprocess.run(["bin/dvc", "exp", "run", "-S", f"extract.engine={engine}", "-S",
                               f"predict.engine={engine}"], cwd=project, env=env, capture_output=True, text=True,
                              timeout=1800)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "Running stage 'predict'" in done.stdout
        return done.stdout + done.stderr

    on_ray = exp_run("ray")
    assert "Running stage 'extract'" in on_ray and "(ray engine)" in on_ray
    on_ray = {name: (project / name).read_bytes() for name in outputs}
    # extract may come back from DVC's run cache (the local engine's quotes of this configuration)
    assert "(ray engine)" not in exp_run("local")
    assert {name: (project / name).read_bytes() for name in outputs} == on_ray
