"""Parquet writing, the output layout, and the atomic commit of a run.

Layout under the output root (DESIGN.md, "Output layout")::

    documents/<run_id>/part-NNNNN.parquet   kept documents
    removed/<run_id>/part-NNNNN.parquet     removed paragraphs, fragments and documents
    quarantine/<run_id>/part-NNNNN.parquet  inputs that could not be read
    _runs/<run_id>.json                     manifest of the run (written last)
    _index/{documents,paragraphs,templates}/<run_id>/   the run's part of the dedup index
    _staging/<run_id>/                      work in progress, never read by users
    .lock                                   held while a run writes

A run writes everything under ``_staging/<run_id>/``. The commit renames the
finished folders (datasets and index parts) into place and then writes the manifest; a
``_runs/<run_id>.committing`` marker exists only in between. :func:`recover`
(called at the start of every run) rolls back a commit that a crash
interrupted, so readers never see a half-written run for longer than a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DATASETS = ("documents", "removed", "quarantine")
# The dedup index's partitions (tasks/index.py): committed, rolled back and recovered with the datasets.
INDEX_PARTS = ("_index/documents", "_index/paragraphs", "_index/templates")
COMMITTED = DATASETS + INDEX_PARTS


class OutputError(Exception):
    """The output location cannot be used."""


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` so that readers see the old file or the new one, never a part."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=False, ensure_ascii=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class ParquetSink:
    """Writes rows to one Parquet file in row groups of about ``row_group_bytes``.

    The file is created on the first write; a sink that received no rows
    creates no file unless ``write_empty`` is set.
    """

    def __init__(self, path: Path, schema: pa.Schema, compression: str = "zstd",
                 compression_level: int | None = 3, row_group_bytes: int = 64 << 20,
                 write_empty: bool = False):
        self.path = path
        self.schema = schema
        self.compression = None if compression == "none" else compression
        self.level = compression_level if self.compression in ("zstd", "gzip") else None
        self.row_group_bytes = row_group_bytes
        self.write_empty = write_empty
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self.rows_written = 0

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                self.path, self.schema, compression=self.compression, compression_level=self.level,
                use_dictionary=True, write_statistics=True,
            )
        return self._writer

    def add(self, row: dict[str, Any], size_hint: int = 256) -> None:
        self._rows.append(row)
        self._bytes += size_hint
        if self._bytes >= self.row_group_bytes:
            self.flush()

    def write_table(self, table: pa.Table) -> None:
        self.flush()
        if table.num_rows:
            self._open().write_table(table.cast(self.schema), row_group_size=max(1, table.num_rows))
            self.rows_written += table.num_rows

    def flush(self) -> None:
        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=self.schema)
        self._open().write_table(table, row_group_size=len(self._rows))
        self.rows_written += len(self._rows)
        self._rows = []
        self._bytes = 0

    def close(self) -> None:
        self.flush()
        if self._writer is None and self.write_empty:
            self._open()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:
            self._writer.close()
            self._writer = None


# --- run layout, lock, commit, recovery ------------------------------------------------------


class RunPaths:
    def __init__(self, out: str | Path, run_id: str):
        self.out = Path(out)
        self.run_id = run_id
        self.staging = self.out / "_staging" / run_id
        self.runs = self.out / "_runs"

    def staged(self, dataset: str) -> Path:
        return self.staging / dataset

    def final(self, dataset: str) -> Path:
        return self.out / dataset / self.run_id

    @property
    def manifest(self) -> Path:
        return self.runs / f"{self.run_id}.json"

    @property
    def marker(self) -> Path:
        return self.runs / f"{self.run_id}.committing"


def check_output_root(out: str | Path) -> Path:
    """Create the output root if needed and prove it is writable, before any work."""
    root = Path(out)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        with open(probe, "wb") as fh:
            fh.write(b"x" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
        probe.unlink()
    except OSError as e:
        raise OutputError(f"output location {root} is not writable: {e.strerror or e}") from e
    return root


@contextlib.contextmanager
def output_lock(out: str | Path, wait_seconds: float | None = None, on_wait=None) -> Iterator[None]:
    """Hold the output root's lock (one writing run per output root at a time).

    Waits for a running run to finish (at most ``wait_seconds``, forever if
    None). The lock is an ``flock`` on ``OUT/.lock``, released by the kernel if
    the process dies, so a crash never leaves a stale lock.
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / ".lock", "a+")
    try:
        start = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait is not None:
                    on_wait()
                    told = True
                if wait_seconds is not None and time.monotonic() - start > wait_seconds:
                    raise OutputError(
                        f"another run is writing to {root} (lock held for over {wait_seconds:.0f} s)"
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def recover(out: str | Path) -> list[str]:
    """Roll back commits a crash interrupted and delete abandoned staging folders.

    Must be called with the output lock held. Returns what was done, for the log.
    """
    root = Path(out)
    actions: list[str] = []
    runs = root / "_runs"
    if runs.is_dir():
        for marker in sorted(runs.glob("*.committing")):
            run_id = marker.name[: -len(".committing")]
            if (runs / f"{run_id}.json").exists():
                marker.unlink()  # crashed after the manifest: the commit is complete
                continue
            for ds in COMMITTED:
                shutil.rmtree(root / ds / run_id, ignore_errors=True)
            marker.unlink()
            actions.append(f"rolled back the interrupted commit of run {run_id}")
        for tmp in runs.glob(".*.tmp*"):
            tmp.unlink(missing_ok=True)
    # Partitions without a manifest (crash between renames and before the marker was seen).
    committed = {p.stem for p in runs.glob("*.json")} if runs.is_dir() else set()
    for ds in COMMITTED:
        d = root / ds
        if d.is_dir():
            for part in sorted(d.iterdir()):
                if part.is_dir() and part.name not in committed:
                    shutil.rmtree(part, ignore_errors=True)
                    actions.append(f"removed {ds}/{part.name}, which has no manifest")
    staging = root / "_staging"
    if staging.is_dir():
        for d in sorted(staging.iterdir()):
            shutil.rmtree(d, ignore_errors=True)
            actions.append(f"deleted abandoned staging folder {d.name}")
    return actions


def commit(paths: RunPaths, manifest: dict[str, Any]) -> None:
    """Move the staged datasets into place and write the manifest, atomically for readers."""
    paths.runs.mkdir(parents=True, exist_ok=True)
    with open(paths.marker, "w") as fh:
        fh.write(paths.run_id)
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_dir(paths.runs)
    for ds in COMMITTED:
        src = paths.staged(ds)
        dst = paths.final(ds)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir() and any(src.iterdir()):
            os.replace(src, dst)
            _fsync_dir(dst.parent)
    write_json_atomic(paths.manifest, manifest)
    paths.marker.unlink()
    _fsync_dir(paths.runs)
    shutil.rmtree(paths.staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        (paths.out / "_staging").rmdir()


def read_input_ledger(out: str | Path) -> dict[str, tuple[int, int]]:
    """Every input file a committed run of this output root read: absolute path -> (size, mtime_ns).

    Read from the manifests (``_runs/*.json``), which a run writes last, so a
    run that crashed or failed never counts its inputs as read. Call it with
    the output lock held.
    """
    runs = Path(out) / "_runs"
    ledger: dict[str, tuple[int, int]] = {}
    if not runs.is_dir():
        return ledger
    for manifest in sorted(runs.glob("*.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise OutputError(f"cannot read the run manifest {manifest}: {e}") from e
        for path, size, mtime_ns in data.get("input_files") or []:
            ledger[path] = (int(size), int(mtime_ns))
    return ledger
