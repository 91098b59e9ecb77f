"""`scrapewash serve` against a real Prefect server: schedule, triggered runs, artifacts, overlap.

Starts `prefect server start` (SQLite in a temporary PREFECT_HOME, free port) and
`scrapewash serve` as real processes, triggers runs of the deployment through the
Prefect client and reads what a person would see in the UI back through it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import SAMPLES, read_dataset

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen, log) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    log.close()


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect server on a free port, with its own home and SQLite database."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_UI_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc, log)
            pytest.fail("prefect server did not start:\n" + (home / "server.log").read_text()[-3000:])
        time.sleep(0.5)
    yield url
    _stop(proc, log)


@pytest.fixture
def client(prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        with get_client(sync_client=True) as c:
            yield c


def _serve(url: str, tmp: Path, landing: Path, out: Path, name: str, *extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=url, PREFECT_HOME=str(tmp / f"home-{name}"), PREFECT_RUNNER_POLL_FREQUENCY="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = open(tmp / f"serve-{name}.log", "wb")
    proc = subprocess.Popen([str(BIN / "scrapewash"), "serve", "--input", str(landing), "--out", str(out),
                             "--cron", "0 3 * * *", "--timezone", "Europe/Berlin", "--name", name,
                             "--settle-seconds", "0", *extra],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def _deployment(client, name: str, proc: subprocess.Popen, log_path: Path, timeout: float = 120):
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.read_deployment_by_name(f"clean-corpus/{name}")
        except ObjectNotFound:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the deployment was not registered:\n" + log_path.read_text()[-3000:])
        time.sleep(0.5)


def _trigger(client, deployment_id, parameters=None):
    return client.create_flow_run_from_deployment(deployment_id, parameters=parameters)


def _wait_final(client, flow_run_id, log_path: Path, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while True:
        run = client.read_flow_run(flow_run_id)
        if run.state is not None and run.state.is_final():
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"flow run still {run.state.name if run.state else None} after {timeout} s:\n"
                        + log_path.read_text()[-4000:])
        time.sleep(1)


def _artifacts(client, flow_run_id) -> dict[str, object]:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    arts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in arts}


def _summary_value(markdown: str, label: str) -> str:
    m = re.search(rf"^\| {re.escape(label)} \| (.+?) \|$", markdown, re.M)
    assert m, f"no row {label!r} in the summary:\n{markdown}"
    return m.group(1)


def _manifest_of(out: Path, flow_run_id) -> dict:
    for p in (out / "_runs").glob("*.json"):
        m = json.loads(p.read_text())
        if m["prefect_flow_run_id"] == str(flow_run_id):
            return m
    raise AssertionError(f"no manifest of flow run {flow_run_id} in {out / '_runs'}")


def test_serve_schedules_runs_and_reports_in_the_ui(prefect_server, client, tmp_path):
    landing, out = tmp_path / "landing", tmp_path / "out"
    landing.mkdir()
    shutil.copy(SAMPLES / "articles.jsonl", landing / "articles.jsonl")
    good = json.dumps({"id": "late-1", "text": "A good record among bad ones. " * 20})
    (landing / "damaged.jsonl").write_text(good + "\n{not json\n" + json.dumps({"id": "x", "text": 7}) + "\n")
    proc, log = _serve(prefect_server, tmp_path, landing, out, "hourly")
    log_path = tmp_path / "serve-hourly.log"
    try:
        dep = _deployment(client, "hourly", proc, log_path)
        # The schedule, the parameters a person sees in the run form, and the concurrency limit.
        assert [s.schedule.cron for s in dep.schedules] == ["0 3 * * *"]
        assert dep.schedules[0].schedule.timezone == "Europe/Berlin"
        params = dep.parameters["params"]
        assert params["inputs"] == [str(landing)] and params["out"] == str(out) and params["reprocess"] is False
        schema = dep.parameter_openapi_schema
        fields = schema["definitions"]["RunParameters"]["properties"]
        for name in ("inputs", "out", "reprocess", "settle_seconds", "config"):
            assert name in fields
        for name in ("inputs", "out", "reprocess", "settle_seconds"):
            assert len(fields[name].get("description", "")) > 20, name
        assert schema["definitions"]["ReadConfig"]["properties"]["docs_per_shard"]["description"]
        assert dep.global_concurrency_limit is not None and dep.global_concurrency_limit.limit == 1

        # A person triggers a run; it completes and says what it did.
        run = _wait_final(client, _trigger(client, dep.id).id, log_path)
        assert run.state.is_completed(), run.state
        manifest = _manifest_of(out, run.id)
        run_id = manifest["run_id"]
        docs = read_dataset(out, "documents", run_id)
        quarantine = read_dataset(out, "quarantine", run_id)
        counts = manifest["counts"]
        assert docs.num_rows == counts["documents_out"] > 0
        assert quarantine.num_rows == counts["quarantined"] == 2
        assert manifest["deployment"] == "hourly"

        arts = _artifacts(client, run.id)
        summary = arts["clean-corpus-summary"]
        assert summary.type == "markdown"
        md = summary.data
        assert str(out) in md and run_id in md
        assert int(_summary_value(md, "documents kept")) == docs.num_rows
        assert int(_summary_value(md, "records in")) == counts["records_in"]
        assert int(_summary_value(md, "quarantined")) == 2
        assert "## Top rules" in md and "MB/s" in md
        assert arts["clean-corpus-progress"].type == "progress"
        assert float(arts["clean-corpus-progress"].data) == 100.0
        table = arts["clean-corpus-quarantine"]
        assert table.type == "table"
        rows = json.loads(table.data) if isinstance(table.data, str) else table.data
        assert len(rows) == 2 and all("damaged.jsonl" in r["source"] for r in rows)
        assert {r["error_type"] for r in rows} == set(quarantine["error_type"].to_pylist())

        # Per-shard task runs with names that say which shard.
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        names = {t.name for t in task_runs}
        assert any(n.startswith("prepare ") and "articles.jsonl" in n for n in names), names
        assert any(n.startswith("finalize ") for n in names) and any(n.startswith("commit") for n in names), names
        assert all(t.state.is_completed() for t in task_runs)

        # New input arrives; two runs start at once. The output gets each new document once,
        # and nothing already cleaned is cleaned again.
        extra = [json.loads(line) for line in (SAMPLES / "articles.jsonl").read_text().splitlines() if line.strip()]
        with open(landing / "arrived-later.jsonl", "w") as fh:
            for i, rec in enumerate(extra[:3]):
                fh.write(json.dumps({**rec, "id": f"later-{i}", "text": rec["text"] + f"\n\nUpdate {i}: a new closing "
                                     "paragraph written for this later edition of the story."}) + "\n")
        runs = [_trigger(client, dep.id), _trigger(client, dep.id)]
        finished = [_wait_final(client, r.id, log_path) for r in runs]
        assert all(r.state.is_completed() for r in finished), [r.state for r in finished]
        manifests = [m for m in (_manifest_of_or_none(out, r.id) for r in finished) if m]
        assert len(manifests) == 1, "exactly one of the two runs had new input to commit"
        assert manifests[0]["counts"]["records_in"] == 3
        assert [f[0] for f in manifests[0]["input_files"]] == [str(landing / "arrived-later.jsonl")]
        all_docs = read_dataset(out, "documents")
        ids = all_docs["doc_id"].to_pylist()
        assert len(ids) == len(set(ids)), "no document was written twice"
        assert {f"later-{i}" for i in range(3)} <= set(ids) | set(read_dataset(out, "removed")["doc_id"].to_pylist())
        assert read_dataset(out, "documents", run_id).num_rows == docs.num_rows, "the first run's data is untouched"
        other = [r for r in finished if _manifest_of_or_none(out, r.id) is None][0]
        md_other = _artifacts(client, other.id)["clean-corpus-summary"].data
        assert "Nothing to clean" in md_other

        # A run that cannot do its work ends Failed, with the reason in its state message.
        bad = {**params, "inputs": [str(tmp_path / "no-such-folder")]}
        failed = _wait_final(client, _trigger(client, dep.id, {"params": bad}).id, log_path)
        assert failed.state.is_failed()
        assert "input not found" in (failed.state.message or ""), failed.state.message
    finally:
        _stop(proc, log)


def _manifest_of_or_none(out: Path, flow_run_id):
    try:
        return _manifest_of(out, flow_run_id)
    except AssertionError:
        return None


def test_serve_rejects_a_bad_schedule(prefect_server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=prefect_server, PREFECT_HOME=str(tmp_path / "home"))
    r = subprocess.run([str(BIN / "scrapewash"), "serve", "--input", str(tmp_path), "--out", str(tmp_path / "o"),
                        "--cron", "every hour please"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "bad schedule" in r.stderr


def test_prefect_yaml_deploys_to_a_work_pool_and_a_worker_runs_it(prefect_server, client, tmp_path):
    """The bundled prefect.yaml: `prefect deploy --all`, then a process worker (started outside the
    checkout: the entrypoint is the installed package) runs a triggered run."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    spec = yaml.safe_load((root / "prefect.yaml").read_text())
    (dep_spec,) = spec["deployments"]
    from scrapewash.config import RunParameters

    RunParameters.model_validate(dep_spec["parameters"]["params"])  # the shipped parameters are valid
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=prefect_server, PREFECT_HOME=str(tmp_path / "home"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    prefect = str(BIN / "prefect")
    pool = dep_spec["work_pool"]["name"]
    r = subprocess.run([prefect, "work-pool", "create", pool, "--type", "process"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 or "already exists" in r.stdout + r.stderr, r.stdout + r.stderr
    r = subprocess.run([prefect, "--no-prompt", "deploy", "--all"], cwd=root, env=env, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    dep = client.read_deployment_by_name(f"clean-corpus/{dep_spec['name']}")
    assert dep.work_pool_name == pool
    assert [s.schedule.cron for s in dep.schedules] == [dep_spec["schedules"][0]["cron"]]
    assert dep.parameters["params"].get("reprocess", False) is False

    landing, out = tmp_path / "landing", tmp_path / "out"
    landing.mkdir()
    shutil.copy(SAMPLES / "articles.jsonl", landing / "articles.jsonl")
    assert not dep.pull_steps  # workers need the installed package, not a checkout
    params = {**dep.parameters["params"], "inputs": [str(landing)], "out": str(out), "settle_seconds": 0}
    flow_run = _trigger(client, dep.id, {"params": params})
    worker_log = tmp_path / "worker.log"
    with open(worker_log, "wb") as log:
        w = subprocess.run([prefect, "worker", "start", "--pool", pool, "--run-once"], cwd=tmp_path, env=env,
                           stdout=log, stderr=subprocess.STDOUT, timeout=240)
    assert w.returncode == 0, worker_log.read_text()[-3000:]
    run = _wait_final(client, flow_run.id, worker_log, timeout=60)
    assert run.state.is_completed(), worker_log.read_text()[-3000:]
    manifest = _manifest_of(out, run.id)
    assert manifest["counts"]["documents_out"] == read_dataset(out, "documents", manifest["run_id"]).num_rows > 0
