"""The command line, as a user runs it: a real process with Prefect's temporary local API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pyarrow.dataset as ds
import pytest

from conftest import SAMPLES

pytestmark = pytest.mark.slow


def scrapewash(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(cwd / ".prefect") if cwd else env.get("PREFECT_HOME", "")
    return subprocess.run([sys.executable, "-m", "scrapewash.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_run_on_samples_prints_summary_and_exits_zero(tmp_path):
    out = tmp_path / "out"
    p = scrapewash("run", str(SAMPLES / "articles.jsonl"), str(SAMPLES / "pages"), "--out", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "committed to" in p.stdout and "documents kept" in p.stdout
    assert "paragraphs removed: boilerplate" in p.stdout
    assert ds.dataset(str(out / "documents"), format="parquet").count_rows() > 20


def _temporary_servers() -> set[int]:
    import psutil

    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        if "prefect.server.api.server:create_app" in " ".join(proc.info["cmdline"] or []):
            found.add(proc.pid)
    return found


def test_the_temporary_server_starts_while_the_command_loads_and_stops_with_it(tmp_path):
    before = _temporary_servers()
    p = scrapewash("run", str(SAMPLES / "articles.jsonl"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    # the flow ran on the server started early (Prefect did not start one of its own) ...
    assert "Started temporary server on http://127.0.0.1:" in p.stderr
    assert "Starting temporary server" not in p.stderr
    # ... which is gone with the command, also when the command stops before any flow runs
    q = scrapewash("run", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o2"), cwd=tmp_path)
    assert q.returncode == 2 and "input not found" in q.stderr
    time.sleep(1)
    assert _temporary_servers() <= before


def test_no_early_server_when_an_api_is_configured(tmp_path):
    # In a process of its own: this one's Prefect settings name the test server's API.
    probe = "from scrapewash import early_server; print(early_server.start() is not None)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SCRAPEWASH_"))}
    env["PREFECT_HOME"] = str(tmp_path / ".prefect")

    def starts(**extra: str) -> bool:
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                           env={**env, **extra})
        assert p.returncode == 0, p.stderr[-3000:]
        return p.stdout.strip() == "True"

    assert starts()  # no API configured: the command launches the temporary server
    assert not starts(PREFECT_API_URL="http://127.0.0.1:9/api")
    assert not starts(SCRAPEWASH_EARLY_SERVER="0")


def test_quarantine_exit_code_and_json_summary(tmp_path):
    p = scrapewash("run", str(SAMPLES / "bad"), "--out", str(tmp_path / "o"), "--json", cwd=tmp_path)
    assert p.returncode == 3, p.stderr[-3000:]
    counts = json.loads(p.stdout)
    assert counts["quarantined"] == 4
    assert counts["quarantine_errors"] == {"bad_text_type": 1, "malformed_json": 1, "missing_text": 1,
                                           "truncated_file": 1}


def test_usage_errors(tmp_path):
    p = scrapewash("run", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 2 and "input not found" in p.stderr
    cfg = tmp_path / "c.toml"
    cfg.write_text("[dedup]\nunknown_option = 1\n")
    p = scrapewash("run", str(SAMPLES / "pages"), "--out", str(tmp_path / "o"), "--config", str(cfg), cwd=tmp_path)
    assert p.returncode == 2 and "bad configuration" in p.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    p = scrapewash("run", str(SAMPLES / "pages"), "--out", str(blocker / "o"), cwd=tmp_path)
    assert p.returncode == 1 and "not writable" in p.stderr


def test_a_second_run_of_the_same_input_adds_nothing(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.jsonl").write_bytes((SAMPLES / "articles.jsonl").read_bytes())
    out = str(tmp_path / "o")
    first = scrapewash("run", str(landing / "*.jsonl"), "--out", out, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    assert json.loads(first.stdout)["documents_in"] > 0
    again = scrapewash("run", str(landing / "*.jsonl"), "--out", out, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "no new input to clean; nothing was committed" in again.stdout
    p = scrapewash("run", str(tmp_path / "nothing-*.jsonl"), "--out", out, cwd=tmp_path)
    assert p.returncode == 2 and "input not found" in p.stderr


def test_runner_usage_errors(tmp_path):
    p = scrapewash("run", str(SAMPLES / "pages"), "--out", str(tmp_path / "o"), "--runner", "threads",
                   "--dask-address", "tcp://127.0.0.1:1", cwd=tmp_path)
    assert p.returncode == 2 and "--dask-address needs --runner dask" in p.stderr
    p = scrapewash("run", str(SAMPLES / "pages"), "--out", str(tmp_path / "o"), "--runner", "spark", cwd=tmp_path)
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_the_default_runner_uses_a_process_per_worker():
    """With no --runner, more than one worker means worker processes (threads would share one core:
    the stages are Python holding the interpreter lock), one worker the run's own thread."""
    from scrapewash.cli import _parser
    from scrapewash.flows.runners import make_task_runner

    for argv in (["run", "in", "--out", "o"], ["serve", "--input", "in", "--out", "o", "--cron", "0 * * * *"]):
        args = _parser().parse_args(argv)
        assert args.runner == "auto"
        assert type(make_task_runner(args.runner, 2, args.dask_address)).__name__ == "ScrapewashProcessTaskRunner"
        assert type(make_task_runner(args.runner, 1, args.dask_address)).__name__ == "ThreadPoolTaskRunner"


def test_eval_twice_into_one_output_scores_the_same(tmp_path):
    raw = SAMPLES / "articles.jsonl"
    gold = tmp_path / "gold.jsonl"
    with open(gold, "w") as fh:
        for line in raw.read_text().splitlines():
            rec = json.loads(line)
            fh.write(json.dumps({"id": rec["id"], "gold": rec["text"]}) + "\n")
    scores = []
    for i in range(2):
        p = scrapewash("eval", str(raw), "--gold", str(gold), "--out", str(tmp_path / "o"), "--json",
                       str(tmp_path / f"s{i}.json"), cwd=tmp_path)
        assert p.returncode == 0, p.stderr[-3000:]
        scores.append(json.loads((tmp_path / f"s{i}.json").read_text()))
    assert scores[0]["documents"] == scores[1]["documents"] > 0
    assert scores[0]["cleaned"] == scores[1]["cleaned"]
    assert scores[1]["cleaned"]["recall"] > 0.5
