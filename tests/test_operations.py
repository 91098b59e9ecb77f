"""Scheduled-run behaviour without a server: only new input, glob inputs, settling files,
overlapping runs on one output root, the progress artifact and the parameter model."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from conftest import SAMPLES, assert_reconciles, read_dataset, run_flow
from scrapewash.config import Config, RunParameters
from scrapewash.tasks import write
from scrapewash.tasks.read import plan_inputs


def _landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    return landing


def _records(n: int, prefix: str) -> str:
    lines = []
    for i in range(n):
        body = "\n".join(f"{prefix} story {i}, paragraph {j}: the council met on Tuesday to discuss the "
                         f"budget for item {i * 7 + j} and the new bridge across the river." for j in range(4))
        lines.append(json.dumps({"id": f"{prefix}-{i}", "text": body}))
    return "\n".join(lines) + "\n"


def test_each_input_file_is_read_once(tmp_path):
    landing, out = _landing(tmp_path), tmp_path / "out"
    first = run_flow([landing], out)
    assert first["committed"] and first["documents_in"] > 0
    assert_reconciles(out, first)
    # Nothing arrived: nothing is read, nothing is committed.
    again = run_flow([landing], out)
    assert again["committed"] is False and again["documents_in"] == 0
    assert len(list((out / "_runs").glob("*.json"))) == 1
    # A new file arrives: only it is read.
    (landing / "new.jsonl").write_text(_records(3, "fresh"))
    third = run_flow([landing], out)
    assert third["committed"] and third["records_in"] == 3
    manifest = json.loads((out / "_runs" / f"{third['run_id']}.json").read_text())
    assert [f[0] for f in manifest["input_files"]] == [str((landing / "new.jsonl").resolve())]
    assert manifest["reprocess"] is False and len(manifest["input_files"][0][3]) == 32  # content digest
    # A file rewritten in place (new size and mtime) counts as new input.
    (landing / "new.jsonl").write_text(_records(4, "fresh"))
    fourth = run_flow([landing], out)
    assert fourth["records_in"] == 4
    # The same content under another name is not read again.
    shutil.copy(landing / "new.jsonl", landing / "new-copy.jsonl")
    fifth = run_flow([landing], out)
    assert fifth["committed"] is False and fifth["documents_in"] == 0


def test_a_failed_run_does_not_count_its_input_as_read(tmp_path, monkeypatch):
    from scrapewash.flows import clean_corpus as cc
    from scrapewash.tasks import finalize

    landing, out = _landing(tmp_path), tmp_path / "out"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(finalize, "finalize_shard", broken)
    with pytest.raises(cc.ShardFailed, match=r"OSError: disk full \(finalizing shard 0 \(part-00000.parquet\)\)"):
        run_flow([landing], out)  # the failed batch's error names the shard
    monkeypatch.undo()
    assert write.read_input_ledger(out).files == {}
    counts = run_flow([landing], out)
    assert counts["committed"] and counts["documents_in"] > 0


def test_glob_inputs_and_settling_files(tmp_path):
    landing = tmp_path / "landing"
    (landing / "2026-12-01").mkdir(parents=True)
    (landing / "2026-12-02").mkdir()
    (landing / "2026-12-01" / "a.jsonl").write_text(_records(2, "a"))
    (landing / "2026-12-02" / "b.jsonl").write_text(_records(2, "b"))
    (landing / "2026-12-02" / "notes.md").write_text("not an input")
    plan = plan_inputs([str(landing / "2026-12-*" / "*")], 100, 1 << 20)
    assert [f.source for s in plan.shards for f in s.files] == [
        str(landing / "2026-12-01" / "a.jsonl"), str(landing / "2026-12-02" / "b.jsonl")]
    assert plan.skipped == [(str(landing / "2026-12-02" / "notes.md"), "not an input file type")]
    # A folder and a pattern inside it: each file read once.
    plan = plan_inputs([str(landing), str(landing / "**" / "*.jsonl")], 100, 1 << 20)
    assert plan.n_files == 2
    # A pattern that matches nothing is no error (an empty landing folder).
    assert plan_inputs([str(landing / "*.parquet")], 100, 1 << 20).n_files == 0
    # A file written a moment ago is left for the next run.
    recent = landing / "2026-12-02" / "c.jsonl"
    recent.write_text(_records(1, "c"))
    old = time.time() - 3600
    for p in (landing / "2026-12-01" / "a.jsonl", landing / "2026-12-02" / "b.jsonl"):
        os.utime(p, (old, old))
    plan = plan_inputs([str(landing)], 100, 1 << 20, modified_before_ns=time.time_ns() - 60 * 10**9)
    assert plan.settling == [str(recent)] and plan.n_files == 2
    out = tmp_path / "out"
    counts = run_flow([str(landing / "*" / "*.jsonl")], out, settle_seconds=60)
    assert counts["records_in"] == 4
    os.utime(recent, (old, old))
    counts = run_flow([str(landing / "*" / "*.jsonl")], out, settle_seconds=60)
    assert counts["records_in"] == 1


def test_overlapping_runs_leave_a_correct_dataset(tmp_path):
    """Two runs on one output root at once: the second waits for the first's lock, then finds nothing
    left to read. A third run with ``reprocess`` reads it all again and supersedes the first."""
    landing, out = _landing(tmp_path), tmp_path / "out"
    (landing / "bulk.jsonl").write_text(_records(400, "bulk"))
    results: dict[str, dict] = {}
    errors: list[BaseException] = []

    def go(name: str, **kw) -> None:
        try:
            results[name] = run_flow([landing], out, **kw)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    first = threading.Thread(target=go, args=("first",), kwargs={"run_id": "run-a"})
    first.start()
    # Start the second while the first holds the lock and is writing its staging folder.
    deadline = time.monotonic() + 120
    while not (out / "_staging" / "run-a").exists():
        assert time.monotonic() < deadline and first.is_alive(), "the first run never started writing"
        time.sleep(0.01)
    second = threading.Thread(target=go, args=("second",), kwargs={"run_id": "run-b"})
    second.start()
    first.join(300)
    second.join(300)
    third = threading.Thread(target=go, args=("third",), kwargs={"run_id": "run-c", "reprocess": True})
    third.start()
    third.join(300)
    assert not errors, errors
    a, b, c = results["first"], results["second"], results["third"]
    assert a["committed"] and a["records_in"] > 400
    assert not b["committed"] and b["documents_in"] == 0, "the second saw the first's input as read"
    assert c["committed"] and c["records_in"] == a["records_in"]
    assert_reconciles(out, c)
    da = read_dataset(out / "_superseded", "documents", "run-a")
    dc = read_dataset(out, "documents", "run-c")
    assert da.num_rows == a["documents_out"] and dc.num_rows == c["documents_out"]
    assert sorted(da["doc_id"].to_pylist()) == sorted(dc["doc_id"].to_pylist())
    assert len(set(dc["doc_id"].to_pylist())) == dc.num_rows
    # The reprocessed run replaced the first: one copy of each document in the dataset.
    assert sorted(p.name for p in (out / "documents").iterdir()) == ["run-c"]
    assert sorted(p.stem for p in (out / "_runs").glob("*.json")) == ["run-c"]
    assert json.loads((out / "_runs" / "run-c.json").read_text())["supersedes"] == ["run-a"]
    assert not (out / "_staging").exists()


def test_progress_artifact_reaches_100(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    counts = run_flow([SAMPLES], tmp_path / "out", read={"docs_per_shard": 3, "bytes_per_shard": 4096})
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["clean-corpus-progress"])))
        manifest = json.loads((tmp_path / "out" / "_runs" / f"{counts['run_id']}.json").read_text())
        mine = [a for a in arts if str(a.flow_run_id) == manifest["prefect_flow_run_id"]]
    assert len(mine) == 1 and mine[0].type == "progress" and float(mine[0].data) == 100.0


def test_progress_updates_are_throttled_within_a_stage():
    from prefect import flow
    from prefect.client.orchestration import get_client

    from scrapewash.flows.clean_corpus import Progress

    @flow
    def shard_tasks(min_interval: float) -> tuple[int, str]:
        p = Progress("test", min_interval=min_interval)
        for n in range(1, 11):  # ten shard tasks of the sign stage finish
            p.advance("sign", 1 / 10, stage_done=n == 10)
        return p.updates, str(p.artifact_id)

    for interval, expected in ((3600.0, 1), (0.0, 10)):
        updates, artifact_id = shard_tasks(interval)
        assert updates == expected
        with get_client(sync_client=True) as client:
            art = client.read_artifacts()
            mine = [a for a in art if str(a.id) == artifact_id]
        assert len(mine) == 1 and float(mine[0].data) == 20.0  # the sign stage's share, shown at its end


def test_run_parameters_model():
    p = RunParameters(inputs=["/data/landing"])
    assert p.out == "output" and p.reprocess is False and p.config == Config()
    schema = RunParameters.model_json_schema()
    for name, field in schema["properties"].items():
        assert field.get("description"), f"{name} has no description for the run form"
    with pytest.raises(ValueError):
        RunParameters(inputs=[])
    with pytest.raises(ValueError):
        RunParameters(inputs=["x"], run_id="../escape")
    with pytest.raises(ValueError):
        RunParameters(inputs=["x"], unknown=1)


def test_flow_parameter_schema_describes_every_field():
    from prefect.utilities.callables import parameter_schema

    from scrapewash.flows.clean_corpus import clean_corpus

    schema = parameter_schema(clean_corpus.fn).model_dump()
    assert list(schema["properties"]) == ["params"]
    props = schema["definitions"]["RunParameters"]["properties"]
    assert {"inputs", "out", "reprocess", "settle_seconds", "config", "run_id"} <= set(props)
    assert all(p.get("description") for p in props.values())
