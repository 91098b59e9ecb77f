"""The clean-corpus flow on worker processes (a local pool, real Dask clusters): the same output as
the thread runner, shard tasks run in the worker processes and report to the Prefect API, and no
process is left behind."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from conftest import SAMPLES, assert_reconciles, read_dataset, run_flow
from scrapewash.flows.runners import RunnerError, make_task_runner

distributed = pytest.importorskip("distributed")
pytest.importorskip("prefect_dask")
psutil = pytest.importorskip("psutil")

VOLATILE = ("run_id", "processed_at")
TIMING = ("run_id", "output", "duration_s", "mb_per_s", "docs_per_s")
SMALL_SHARDS = {"read": {"docs_per_shard": 2, "bytes_per_shard": 4096}}
SHARD_TASKS = {"prepare_shard_task": "prepare-shard", "sign_shards_task": "sign-shards",
               "finalize_shards_task": "finalize-shards"}


def batches(counts: dict, slots: int = 2) -> int:
    """Task runs of the sign and finalize stages: two batches of shards per worker."""
    return min(counts["shards"], 2 * slots)


def tasks_per_stage(counts: dict) -> dict[str, int]:
    return {"prepare": counts["shards"], "sign": batches(counts), "finalize": batches(counts)}


def _rows(out: Path, name: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in read_dataset(out, name).to_pylist()]


def _stable(counts: dict) -> dict:
    """The counts without timings (throughput at the top, each stage's ``seconds`` below)."""

    def strip(v):
        return {k: strip(x) for k, x in v.items() if not k.endswith("seconds")} if isinstance(v, dict) else v

    return strip({k: v for k, v in counts.items() if k not in TIMING})


def _children() -> set[int]:
    """Our child processes, but for multiprocessing's helpers, which live as long as this process."""
    pids = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if not any("multiprocessing.resource_tracker" in a or "multiprocessing.forkserver" in a
                       for a in p.cmdline()):
                pids.add(p.pid)
        except psutil.NoSuchProcess:
            pass
    return pids


def assert_no_new_processes(before: set[int], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while (left := _children() - before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, [" ".join(psutil.Process(pid).cmdline()[:4]) for pid in left]


@pytest.fixture(scope="module")
def thread_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("threads")
    counts = run_flow([SAMPLES], out, task_runner=make_task_runner("threads", workers=2), **SMALL_SHARDS)
    assert counts["shards"] >= 6, "small shards should give several shard tasks"
    assert_reconciles(out, counts)
    return out, counts


def assert_same_output(out: Path, counts: dict, thread_run) -> None:
    ref_out, ref_counts = thread_run
    assert counts["committed"] is True
    assert_reconciles(out, counts)
    assert _stable(counts) == _stable(ref_counts)
    for name in ("documents", "removed", "quarantine"):
        assert _rows(out, name) == _rows(ref_out, name), name
    assert counts["documents_out"] > 0 and counts["quarantined"] > 0


def assert_task_runs_reported(out: Path, counts: dict) -> None:
    """The harness' Prefect API holds a Completed task run per shard and stage, under this flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    manifest = json.loads((out / "_runs" / f"{counts['run_id']}.json").read_text())
    flow_run_id = manifest["prefect_flow_run_id"]
    assert flow_run_id
    # Prefect 3 records task runs from the events their runs emit, which the API writes a moment later:
    # on a loaded machine the last ones may still be on their way when the flow returns. Read again
    # until every stage is complete or 60 s have passed; the assertions below judge the last read.
    deadline = time.monotonic() + 60
    while True:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        by_stage = {stage: [r for r in runs if r.name.startswith(f"{stage} ")]
                    for stage in ("prepare", "sign", "finalize")}
        done = all(len(rs) == tasks_per_stage(counts)[stage] and all(r.state_type.value == "COMPLETED" for r in rs)
                   for stage, rs in by_stage.items())
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for stage, stage_runs in by_stage.items():
        assert len(stage_runs) == tasks_per_stage(counts)[stage], stage
        assert all(r.state_type.value == "COMPLETED" for r in stage_runs), stage


@pytest.mark.slow
def test_local_dask_cluster_matches_threads(tmp_path, thread_run):
    """``--runner dask --workers 2`` as ``scrapewash run`` does it without a Prefect server configured:
    the flow runs against a temporary local server (here the harness') and the task runs in the worker
    processes must report to that same server, not start temporary servers of their own."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        get_current_settings,
        temporary_settings,
    )

    # the settings travel to the workers: a temporary server started there would use this database
    stray_db = tmp_path / "worker-server.db"
    before = _children()
    with temporary_settings(restore_defaults={PREFECT_API_URL},
                            updates={PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{stray_db}"}):
        assert get_current_settings().api.url is None
        counts = run_flow([SAMPLES], tmp_path / "dask", task_runner=make_task_runner("dask", workers=2),
                          **SMALL_SHARDS)
    assert_same_output(tmp_path / "dask", counts, thread_run)
    assert not stray_db.exists(), "a Dask worker started a Prefect server of its own"
    assert_task_runs_reported(tmp_path / "dask", counts)
    assert_no_new_processes(before)


@pytest.mark.slow
def test_process_runner_matches_threads_and_runs_the_work_in_its_processes(tmp_path, thread_run, monkeypatch):
    """``--runner processes --workers 2`` (the default for more than one worker): task runs recorded by
    the flow's process, each stage's work done in the pool's two worker processes."""
    from scrapewash.flows import runners

    where: list[int] = []
    plain = runners.offload

    def recording(fn, *args):  # which process ran each offloaded stage: the pool's, not this one
        pid = plain(os.getpid)
        where.append(pid)
        return plain(fn, *args)

    monkeypatch.setattr("scrapewash.flows.clean_corpus.offload", recording)
    before = _children()
    runner = make_task_runner("auto", workers=2)
    assert type(runner).__name__ == "ScrapewashProcessTaskRunner" and runner.processes == 2
    counts = run_flow([SAMPLES], tmp_path / "p", task_runner=runner, **SMALL_SHARDS)
    assert_same_output(tmp_path / "p", counts, thread_run)
    assert_task_runs_reported(tmp_path / "p", counts)
    # prepare per shard, sign and finalize per batch of shards; 3 corpus stages
    assert len(where) == counts["shards"] + 2 * batches(counts) + 3
    assert os.getpid() not in where and 1 <= len(set(where)) <= 2
    assert runners.offload(os.getpid) == os.getpid()  # outside a flow run: in this process
    assert_no_new_processes(before)


def test_each_worker_process_has_the_next_task_queued_behind_the_one_it_runs():
    """With one worker process and two task runs, the second task's work is handed to the pool while
    the first's still runs (so the process goes straight on to it, not after Prefect has recorded
    the first task's end and the second's start), and the two run one after the other there."""
    import gc

    from prefect import flow, task

    from scrapewash.flows import runners

    @task(name="queued-work")
    def sleep_in_worker(seconds: float) -> tuple[float, float]:
        handed = time.monotonic()
        runners.offload(time.sleep, seconds)
        return handed, time.monotonic()

    @flow(name="queued-work")
    def two_tasks() -> list[tuple[float, float]]:
        futures = [sleep_in_worker.submit(1.0) for _ in range(2)]
        return [f.result() for f in futures]

    before = _children()
    runner = make_task_runner("processes", workers=1)
    (a_handed, a_back), (b_handed, b_back) = sorted(two_tasks.with_options(task_runner=runner)())
    assert b_handed < a_back - 0.5  # handed over while the first task's work still ran
    assert b_back - a_back > 0.9  # and done after it, by the one process
    # the worker process left the objects it loaded at start out of the collector's passes
    pool = runners._spawn_pool(1)
    try:
        assert pool.submit(gc.get_freeze_count).result() > 10_000
    finally:
        pool.shutdown()
    assert_no_new_processes(before)


def test_workers_started_before_the_flow_run_do_its_work(tmp_path, thread_run, monkeypatch):
    """The command starts the worker processes while it waits for the temporary server
    (:func:`start_workers_early`); the flow run takes that pool over instead of starting another."""
    from scrapewash.flows import runners

    where: list[int] = []
    plain = runners.offload

    def recording(fn, *args):
        where.append(plain(os.getpid))
        return plain(fn, *args)

    monkeypatch.setattr("scrapewash.flows.clean_corpus.offload", recording)
    before = _children()
    runner = make_task_runner("processes", workers=2)
    runners.start_workers_early(runner)
    early = set(runners._EARLY_POOLS[2]._processes)
    assert len(early) == 2
    counts = run_flow([SAMPLES], tmp_path / "e", task_runner=runner, **SMALL_SHARDS)
    assert_same_output(tmp_path / "e", counts, thread_run)
    assert 2 not in runners._EARLY_POOLS  # taken over by the flow run (Prefect runs a copy of the runner)
    assert set(where) <= early and len(where) == counts["shards"] + 2 * batches(counts) + 3
    assert_no_new_processes(before)


@pytest.mark.slow
def test_process_runner_replaces_a_dead_worker_and_retries(tmp_path, thread_run, monkeypatch):
    """A worker process killed mid-task (out of memory, say) fails that task run; Prefect's retry runs
    it on a new pool, and the run completes with the same output."""
    import signal

    from scrapewash.flows import runners

    plain = runners.offload
    killed: list[str] = []

    def kill_once(fn, *args):
        if fn.__name__ == "sign_shards" and not killed:
            try:
                plain(os.kill, plain(os.getpid), signal.SIGKILL)  # the worker dies under the task
            except RuntimeError as e:  # the task run fails; Prefect retries it
                killed.append(str(e))
                raise
        return plain(fn, *args)

    monkeypatch.setattr("scrapewash.flows.clean_corpus.offload", kill_once)
    before = _children()
    counts = run_flow([SAMPLES], tmp_path / "p", task_runner=make_task_runner("processes", workers=2),
                      **SMALL_SHARDS)
    assert killed and "a worker process died" in killed[0] and counts["committed"]
    assert_same_output(tmp_path / "p", counts, thread_run)
    assert_no_new_processes(before)


@pytest.mark.slow
def test_existing_dask_cluster_runs_the_shard_tasks(tmp_path, thread_run):
    """``--runner dask --dask-address tcp://...``: the shard tasks run on that cluster's workers."""
    out = tmp_path / "dask"
    before = _children()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        worker_pids = client.run(os.getpid)
        assert len(worker_pids) == 2 and os.getpid() not in worker_pids.values()
        with distributed.get_task_stream(client) as stream:
            counts = run_flow([SAMPLES], out, task_runner=make_task_runner(
                "dask", dask_address=cluster.scheduler_address), **SMALL_SHARDS)
        # every Dask task the flow ran, as the scheduler recorded it: on which worker, with what outcome
        executed = [(t["key"].rsplit("-", 1)[0], t["worker"], t["status"]) for t in stream.data]
    assert_same_output(out, counts, thread_run)
    assert_task_runs_reported(out, counts)
    for prefix, name in SHARD_TASKS.items():
        ran = [(w, s) for k, w, s in executed if k == prefix]
        assert len(ran) == tasks_per_stage(counts)[name.split("-")[0]], prefix
        assert {w for w, _ in ran} <= set(worker_pids) and {s for _, s in ran} == {"OK"}, prefix
    assert_no_new_processes(before)


def test_make_task_runner_choices_and_errors():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    threads = make_task_runner("threads", workers=3)
    assert isinstance(threads, ThreadPoolTaskRunner) and threads._max_workers == 3
    processes = make_task_runner("processes", workers=3)
    assert type(processes).__name__ == "ScrapewashProcessTaskRunner" and processes.processes == 3
    assert processes._max_workers == 6 and processes.duplicate().processes == 3  # a task queued behind each
    # auto: a thread for one worker, processes for more, Dask given a scheduler
    assert type(make_task_runner("auto", workers=1)) is ThreadPoolTaskRunner
    assert type(make_task_runner(workers=4)).__name__ == "ScrapewashProcessTaskRunner"
    assert isinstance(make_task_runner(dask_address="tcp://10.0.0.5:8786"), DaskTaskRunner)
    local = make_task_runner("dask", workers=3)
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs["n_workers"] == 3 and local.cluster_kwargs["processes"] is True
    remote = make_task_runner("dask", dask_address="tcp://10.0.0.5:8786")
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    with pytest.raises(RunnerError, match="unknown runner 'spark'"):
        make_task_runner("spark")
    with pytest.raises(RunnerError, match="needs --runner dask"):
        make_task_runner("threads", dask_address="tcp://127.0.0.1:8786")


def test_short_stages_run_a_few_batches_of_shards_per_worker():
    """The sign and finalize stages run two batches of shards per worker, of about equal bytes, each
    shard in exactly one batch; a runner of unknown size gets a task per shard."""
    from scrapewash.flows.clean_corpus import MAX_BATCH_BYTES, deal, short_task_batches
    from scrapewash.flows.runners import parallel_slots
    from scrapewash.tasks.read import Shard

    shards = [Shard(i, (), size_bytes=5_340_000) for i in range(18)] + [Shard(18, (), size_bytes=3_990_000)]
    got = short_task_batches(shards, 2)
    assert len(got) == 4
    assert sorted(s.index for b in got for s in b) == list(range(19))
    assert all([s.index for s in b] == sorted(s.index for s in b) for b in got)  # plan order within a batch
    loads = [sum(s.size_bytes for s in b) for b in got]
    assert max(loads) - min(loads) <= 5_340_000 and loads == sorted(loads, reverse=True)
    assert len(short_task_batches(shards, 1)) == 2 and len(short_task_batches(shards, 16)) == 19
    assert short_task_batches(shards, None) == [[s] for s in sorted(shards, key=lambda s: (-s.size_bytes, s.index))]
    assert short_task_batches([], 2) == []
    # a big corpus: batches of MAX_BATCH_BYTES of input on average, within a shard of each other
    big = [Shard(i, (), size_bytes=100_000_000) for i in range(40)]
    got = short_task_batches(big, 2)
    loads = [sum(s.size_bytes for s in b) for b in got]
    assert len(got) == -(-4_000_000_000 // MAX_BATCH_BYTES) == 16 and max(loads) - min(loads) <= 100_000_000
    assert deal(big[:3], 5) == [[big[0]], [big[1]], [big[2]]]
    # how many tasks each runner runs at once
    assert parallel_slots(make_task_runner("threads", workers=3)) == 3
    assert parallel_slots(make_task_runner("processes", workers=2)) == 2  # processes, not its 4 threads
    assert parallel_slots(make_task_runner("dask", workers=2)) is None  # no cluster until the run starts
    assert parallel_slots(object()) is None


def test_runner_from_env(monkeypatch):
    from scrapewash.flows.runners import runner_from_env

    monkeypatch.setenv("SCRAPEWASH_RUNNER", "dask")
    monkeypatch.setenv("SCRAPEWASH_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    assert runner_from_env().address == "tcp://10.0.0.5:8786"
    monkeypatch.delenv("SCRAPEWASH_DASK_ADDRESS")
    monkeypatch.setenv("SCRAPEWASH_WORKERS", "5")
    assert runner_from_env().cluster_kwargs["n_workers"] == 5
    monkeypatch.delenv("SCRAPEWASH_RUNNER")
    assert runner_from_env().processes == 5
    assert type(runner_from_env()).__name__ == "ScrapewashProcessTaskRunner"
    monkeypatch.setenv("SCRAPEWASH_DASK_ADDRESS", "tcp://10.0.0.5:8786")
    assert runner_from_env().address == "tcp://10.0.0.5:8786"
    monkeypatch.setenv("SCRAPEWASH_RUNNER", "threads")
    with pytest.raises(RunnerError, match="SCRAPEWASH_DASK_ADDRESS needs SCRAPEWASH_RUNNER=dask"):
        runner_from_env()
    monkeypatch.delenv("SCRAPEWASH_RUNNER")
    monkeypatch.delenv("SCRAPEWASH_DASK_ADDRESS")
    monkeypatch.setenv("SCRAPEWASH_WORKERS", "two")
    with pytest.raises(RunnerError, match="SCRAPEWASH_WORKERS must be a whole number"):
        runner_from_env()
