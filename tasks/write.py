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

What a reader of ``OUT/<dataset>/**`` sees if a run is killed (``tests/test_crash.py``): before the
commit, nothing of the run; between the marker and the manifest, some of the run's partitions,
each complete (a partition appears by one rename), until the next run rolls them back; after the
manifest, the whole run. Earlier runs are never touched. A write that fails because the output
location is full, read-only or not permitted raises :class:`OutputError` naming the location.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

DATASETS = ("documents", "removed", "quarantine")
# The dedup index's partitions (tasks/index.py): committed, rolled back and recovered with the datasets.
INDEX_PARTS = ("_index/documents", "_index/paragraphs", "_index/templates")
COMMITTED = DATASETS + INDEX_PARTS


class OutputError(Exception):
    """The output location cannot be used."""


_FULL = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}
_NOT_WRITABLE = {errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
                 errno.EPERM: "operation not permitted"}


def is_output_error(e: BaseException) -> bool:
    """An OSError that says the output location is full, read-only or not permitted."""
    return isinstance(e, OSError) and (e.errno in _FULL or e.errno in _NOT_WRITABLE)


def output_error(e: OSError, root: str | Path, path: str | Path | None = None) -> OutputError:
    """``e``, met while writing ``path`` under the output root ``root``, as an OutputError saying why."""
    root = os.path.abspath(root)
    where = ""
    if path is not None:
        with contextlib.suppress(ValueError):
            where = f" (writing {Path(os.path.abspath(path)).relative_to(root)})"
    if e.errno in _FULL:
        return OutputError(f"output location {root} is full: {_FULL[e.errno]}{where}")
    why = _NOT_WRITABLE.get(e.errno) or (e.strerror or str(e)).lower()
    return OutputError(f"output location {root} is not writable: {why}{where}")


def _staging_at(path: Path) -> int | None:
    parts = path.parts
    return len(parts) - 1 - parts[::-1].index("_staging") if "_staging" in parts else None


def _root_of(path: Path) -> Path:
    """The output root of a file under ``<root>/_staging/`` (else the file's folder)."""
    i = _staging_at(path)
    return Path(*path.parts[:i]) if i else path.parent


def _staged_name(path: Path) -> str:
    """The folder of a staged file inside its run's staging folder (``prepared``, ``_index/documents``)."""
    i = _staging_at(path)
    return "/".join(path.parts[i + 2:-1]) if i else path.parent.name


_crash_hits: dict[str, int] = {}
_crash_lock = threading.Lock()


def _crash_point(name: str) -> None:
    """Fault injection for the crash tests (``tests/test_crash.py``); does nothing in a normal run.

    When the environment variable ``SCRAPEWASH_CRASH_POINT`` is ``name``, or ``name@N`` (the N-th
    time this process reaches the point), write it to the file ``SCRAPEWASH_CRASH_POINT_FILE``
    names (if set) and SIGKILL the run: its whole process group if the run leads one (started with
    ``setsid``; Prefect's temporary API server and the run's worker processes die with it, also when
    a worker reaches the point), else the process alone.
    """
    want = os.environ.get("SCRAPEWASH_CRASH_POINT")
    if not want or want.partition("@")[0] != name:
        return
    with _crash_lock:
        _crash_hits[name] = hits = _crash_hits.get(name, 0) + 1
        if hits != int(want.partition("@")[2] or 1):
            return
        flag = os.environ.get("SCRAPEWASH_CRASH_POINT_FILE")
        if flag:
            with open(flag, "w") as fh:
                fh.write(want)
        group = os.getpgrp()
        if group in (os.getpid(), os.getppid()):  # the run leading its group, or a worker it started
            os.killpg(group, signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)


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
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=False, ensure_ascii=False, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


# Intermediate files of a run (prepared, premoved and signed shards) are read once and deleted: they
# take the fastest zstd level, whatever the datasets' own compression is.
INTERMEDIATE_COMPRESSION, INTERMEDIATE_LEVEL = "zstd", 1


def rows_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """``Table.from_pylist(rows, schema=schema)`` (a key a row lacks is null), built column by
    column: about half the time for the tens of thousands of removal rows of a shard."""
    return pa.Table.from_pydict({name: [r.get(name) for r in rows] for name in schema.names}, schema=schema)


class ParquetSink:
    """Writes rows to one Parquet file in row groups of about ``row_group_bytes``.

    The file is created on the first write; a sink that received no rows
    creates no file unless ``write_empty`` is set. A full, read-only or
    forbidden output location raises :class:`OutputError` naming it.
    """

    def __init__(self, path: Path, schema: pa.Schema, compression: str = "zstd",
                 compression_level: int | None = 3, row_group_bytes: int = 64 << 20,
                 write_empty: bool = False, use_dictionary: bool | list[str] = True):
        self.path = path
        self.schema = schema
        self.compression = None if compression == "none" else compression
        self.level = compression_level if self.compression in ("zstd", "gzip") else None
        self.row_group_bytes = row_group_bytes
        self.write_empty = write_empty
        self.use_dictionary = use_dictionary
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self.rows_written = 0

    def _open(self) -> pq.ParquetWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                self.path, self.schema, compression=self.compression, compression_level=self.level,
                use_dictionary=self.use_dictionary, write_statistics=True,
            )
        return self._writer

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except OSError as e:
            if is_output_error(e):
                raise output_error(e, _root_of(self.path), self.path) from e
            raise

    def add(self, row: dict[str, Any], size_hint: int = 256) -> None:
        self._rows.append(row)
        self._bytes += size_hint
        if self._bytes >= self.row_group_bytes:
            self.flush()

    def write_table(self, table: pa.Table) -> None:
        self.flush()
        if table.num_rows:
            with self._writing():
                self._open().write_table(table.cast(self.schema), row_group_size=max(1, table.num_rows))
            self.rows_written += table.num_rows
            _crash_point(f"parquet-write:{_staged_name(self.path)}")

    def flush(self) -> None:
        if not self._rows:
            return
        table = rows_table(self._rows, self.schema)
        with self._writing():
            self._open().write_table(table, row_group_size=len(self._rows))
        self.rows_written += len(self._rows)
        self._rows = []
        self._bytes = 0
        # A row group is written, the file has no footer yet: "parquet-write:prepared", ":_index/documents".
        _crash_point(f"parquet-write:{_staged_name(self.path)}")

    def close(self) -> None:
        self.flush()
        with self._writing():
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
            with contextlib.suppress(Exception):  # the error being raised says more (a full disk, say)
                self._writer.close()
            self._writer = None


# --- run layout, lock, commit, recovery ------------------------------------------------------


R = TypeVar("R")


def each_shard(fn: Callable[..., R], shard_indexes: list[int], doing: str, file_name: str,
               *args: Any) -> list[R]:
    """``fn(i, *args)`` for each shard ``i`` in turn (one task for several short ones). An error
    names the shard it happened in, as a note on the exception: ``"<doing> shard <i> (<file>)"``,
    ``file_name`` formatted with ``i``."""
    out = []
    for i in shard_indexes:
        try:
            out.append(fn(i, *args))
        except Exception as e:
            e.add_note(f"{doing} shard {i} ({file_name.format(i)})")
            raise
    return out


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


def _probe(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    probe = root / f".probe-{os.getpid()}"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"x" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)


def check_output_root(out: str | Path) -> Path:
    """Create the output root if needed and prove it is writable, before any work.

    If it is full and no run holds its lock, the staging folders runs that failed or crashed
    left behind are deleted first (they may be what fills it; :func:`recover` would delete them
    anyway), so a run that failed for want of space does not block the next one.
    """
    root = Path(out)
    try:
        _probe(root)
    except OSError as e:
        if e.errno not in _FULL or not _delete_abandoned_staging(root):
            raise output_error(e, root) from e
        try:
            _probe(root)
        except OSError as e2:
            raise output_error(e2, root) from e2
    return root


def _delete_abandoned_staging(root: Path) -> bool:
    """Delete ``_staging/*`` if no run holds the lock (without waiting); whether anything was deleted."""
    staging = root / "_staging"
    if not staging.is_dir() or not any(staging.iterdir()):
        return False
    try:
        fh = open(root / ".lock", "a+")
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        try:
            for d in sorted(staging.iterdir()):
                shutil.rmtree(d, ignore_errors=True)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return True


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
    for m in _manifests(root):
        for run_id in retire_superseded(root, m.get("supersedes") or []):
            actions.append(f"moved run {run_id}, superseded by run {m['run_id']}, to _superseded/")
    if runs.is_dir():
        for marker in sorted(runs.glob("*.committing")):
            run_id = marker.name[: -len(".committing")]
            if (runs / f"{run_id}.json").exists():
                marker.unlink()  # crashed after the manifest: the commit is complete
                continue
            for ds in COMMITTED:
                if _discard(root, root / ds / run_id):
                    _crash_point("recover-rollback")
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
                    _discard(root, part)
                    actions.append(f"removed {ds}/{part.name}, which has no manifest")
    staging = root / "_staging"
    if staging.is_dir():
        for d in sorted(staging.iterdir()):
            shutil.rmtree(d, ignore_errors=True)
            if not d.name.startswith("."):
                actions.append(f"deleted abandoned staging folder {d.name}")
        with contextlib.suppress(OSError):
            staging.rmdir()
    # Probe files of check_output_root() whose process was killed (a live one exists for milliseconds).
    for probe in root.glob(".probe-*"):
        with contextlib.suppress(OSError):
            if time.time() - probe.stat().st_mtime > 60:
                probe.unlink()
    return actions


def _discard(root: Path, part: Path) -> bool:
    """Delete a partition: first renamed out of its dataset (readers stop seeing all of it at once, even
    if the deletion is interrupted), then deleted. Whether there was one."""
    trash = root / "_staging" / f".discard-{uuid.uuid4().hex}"
    try:
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, trash)
    except FileNotFoundError:
        return False
    except OSError as e:
        raise OutputError(f"cannot remove {part}, which no committed run owns: {e.strerror or e}") from e
    shutil.rmtree(trash, ignore_errors=True)
    return True


def commit(paths: RunPaths, manifest: dict[str, Any]) -> None:
    """Move the staged datasets into place and write the manifest, atomically for readers.

    The manifest is the commit point. A failure before it (a full disk, say) undoes what was done:
    the partitions moved so far go back to staging and the marker goes, so nothing of the run stays
    visible and a retry can commit again; a crash there is rolled back by :func:`recover`.
    """
    moved: list[tuple[Path, Path]] = []
    try:
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
                moved.append((src, dst))
                _fsync_dir(dst.parent)
                _crash_point(f"commit-renamed:{ds}")
        write_json_atomic(paths.manifest, manifest)
    except BaseException as e:
        if not paths.manifest.exists():
            _undo_commit(paths, moved)
        if is_output_error(e):
            raise output_error(e, paths.out) from e
        raise
    _crash_point("commit-manifest")
    # Committed. What follows is tidying up; recover() finishes it if it does not happen.
    with contextlib.suppress(OSError):
        paths.marker.unlink()
        _fsync_dir(paths.runs)
    shutil.rmtree(paths.staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        (paths.out / "_staging").rmdir()


def _undo_commit(paths: RunPaths, moved: list[tuple[Path, Path]]) -> None:
    """Move committed partitions back to staging and remove the marker (the marker stays, for
    :func:`recover`, if a partition cannot be moved back)."""
    try:
        for src, dst in reversed(moved):
            os.replace(dst, src)
        paths.marker.unlink(missing_ok=True)
    except OSError:
        pass


def _manifests(out: str | Path) -> list[dict[str, Any]]:
    runs = Path(out) / "_runs"
    if not runs.is_dir():
        return []
    out_list = []
    for manifest in sorted(runs.glob("*.json")):
        try:
            out_list.append(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            raise OutputError(f"cannot read the run manifest {manifest}: {e}") from e
    return out_list


def read_input_ledger(out: str | Path):
    """Every input file a committed run of this output root read, from the manifests
    (``_runs/*.json``, written last, so a run that crashed or failed never counts its inputs as
    read). Call it with the output lock held."""
    from scrapewash.tasks.read import Ledger

    ledger = Ledger()
    for m in _manifests(out):
        for entry in m.get("input_files") or []:
            path, size, mtime_ns = entry[0], int(entry[1]), int(entry[2])
            ledger.files[path] = (size, mtime_ns)
            if len(entry) > 3 and entry[3]:
                ledger.digests.setdefault(entry[3], path)
    return ledger


def runs_covered_by(out: str | Path, planned: list[list[Any]]) -> list[str]:
    """Committed runs all of whose input files this run reads again (same path, or same content):
    a ``reprocess`` run supersedes them."""
    paths = {e[0] for e in planned}
    digests = {e[3] for e in planned if len(e) > 3 and e[3]}
    covered = []
    for m in _manifests(out):
        files = m.get("input_files") or []
        if files and all(e[0] in paths or (len(e) > 3 and e[3] in digests) for e in files):
            covered.append(m["run_id"])
    return covered


def retire_superseded(out: str | Path, run_ids: list[str]) -> list[str]:
    """Move superseded runs out of the datasets and the index into ``_superseded/``, which mirrors
    the output layout (``_superseded/documents/<run_id>/``, ``_superseded/_runs/<run_id>.json``, ...).

    Called after the superseding run's manifest is written (its commit point) and again by
    :func:`recover` for every manifest that names runs it supersedes, so a crash in between is
    finished on the next run. Partitions move first, the manifest last.
    """
    root = Path(out)
    done = []
    for run_id in run_ids:
        manifest = root / "_runs" / f"{run_id}.json"
        if not manifest.exists():
            continue
        dest = root / "_superseded"
        for ds in COMMITTED:
            src = root / ds / run_id
            if src.is_dir():
                (dest / ds).mkdir(parents=True, exist_ok=True)
                os.replace(src, dest / ds / run_id)
        (dest / "_runs").mkdir(parents=True, exist_ok=True)
        os.replace(manifest, dest / "_runs" / manifest.name)
        _fsync_dir(root / "_runs")
        done.append(run_id)
    return done


def write_staged_table(table: pa.Table, path: str | Path) -> None:
    """``pq.write_table`` for a run's small staged files (decisions, templates): a full or read-only
    output location is reported as an OutputError naming it, like every other write of a run."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    except OSError as e:
        if is_output_error(e):
            root = next((p.parent for p in path.parents if p.name == "_staging"), path.parent)
            raise output_error(e, root, path) from e
        raise
