"""Shared fixtures: paths to the bundled and shared data, a Prefect test harness, run helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "news"
SHARED = (ROOT / ".." / "shared").resolve()
SEEDS = SHARED / "samples" / "seeds"
EVALDATA = SHARED / "evaldata"


def need_shared(path: Path) -> Path:
    """Skip (with the reason) when the shared data beside the checkout is absent."""
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the checkout) which is absent")
    return path


@pytest.fixture(scope="session", autouse=True)
def prefect_harness():
    """One temporary Prefect database and API for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def run_flow(inputs, out, config=None, workers=None, task_runner=None, reprocess=False, run_id=None,
             settle_seconds=0, **updates):
    """Run the real clean-corpus flow in this process and return its counts."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from scrapewash.config import Config, RunParameters
    from scrapewash.flows.clean_corpus import clean_corpus

    config = config or Config()
    if updates:
        config = Config.model_validate({**config.model_dump(), **updates})
    runner = task_runner or ThreadPoolTaskRunner(max_workers=workers or config.workers)
    params = RunParameters(inputs=[str(i) for i in inputs], out=str(out), config=config, reprocess=reprocess,
                           run_id=run_id, settle_seconds=settle_seconds)
    return clean_corpus.with_options(task_runner=runner)(params=params)


def read_dataset(out: Path, name: str, run_id: str | None = None) -> pa.Table:
    """Read a dataset's part files in name order (the order the run wrote them)."""
    base = Path(out) / name
    dirs = [base / run_id] if run_id else sorted(p for p in base.iterdir() if p.is_dir()) if base.exists() else []
    files = sorted(f for d in dirs for f in d.glob("*.parquet"))
    from scrapewash import schemas

    if not files:
        return schemas.SCHEMAS[name].empty_table()
    return pa.concat_tables([pq.read_table(f) for f in files])


def assert_reconciles(out, counts) -> None:
    """Documents in = kept + removed whole + quarantined; paragraphs in = kept + removed."""
    run_id = counts["run_id"]
    docs = read_dataset(out, "documents", run_id)
    removed = read_dataset(out, "removed", run_id).to_pylist()
    quarantine = read_dataset(out, "quarantine", run_id)
    whole = [r for r in removed if r["part"] == "document"]
    assert counts["records_in"] == docs.num_rows + len(whole) + quarantine.num_rows
    assert counts["documents_out"] == docs.num_rows
    kept_paragraphs = sum(docs["n_paragraphs"].to_pylist())
    assert kept_paragraphs == sum(len(t.split("\n\n")) for t in docs["text"].to_pylist())
    assert counts["paragraphs_in"] == kept_paragraphs + sum(r["n_paragraphs"] for r in removed)
