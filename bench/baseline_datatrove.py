"""The speed benchmark's side-by-side baseline: the same corpus through datatrove's equivalent pipeline.

    python bench/baseline_datatrove.py INPUT_DIR --work DIR [--workers N] [--json OUT.json]

Needs the ``bench`` extra (``pip install -e '.[bench]'``). INPUT_DIR holds JSONL files (``*.jsonl`` or
``*.jsonl.gz``, not searched recursively), one ``{"id", "url", "text"}`` record a line. The pipeline is
built only from datatrove's own steps, run by its ``LocalPipelineExecutor`` with one task per input file:

1. ``JsonlReader`` → ``FTFYFormatter`` → ``C4QualityFilter`` → ``JsonlWriter`` (the cleaned intermediate,
   gzip as datatrove writes it by default) → ``MinhashDedupSignature``;
2. ``MinhashDedupBuckets`` (one task per bucket, as datatrove requires);
3. ``MinhashDedupCluster`` (one task);
4. ``JsonlReader`` (the intermediate) → ``MinhashDedupFilter`` → ``ParquetWriter`` (the final output).

Every step keeps datatrove's defaults (MinHash: ``MinhashConfig()``; the values are reported). The four
stages run in a fresh Python process so that its peak memory is the pipeline's own, not the caller's;
everything datatrove prints (its loguru log, progress bars) goes to ``WORK/datatrove.log`` and its
per-task logs and stats to ``WORK/logs/``. ``run_datatrove`` returns a dict with the timings, counts
and memory; the CLI prints it as JSON.

Peak memory (``peak_rss_mb``) is the larger of two measurements, both in MB (1e6 bytes):

* the kernel's high-water mark of the process that runs the stages (``ru_maxrss`` of ``RUSAGE_SELF``),
  exact but for that one process only; with ``--workers 1`` datatrove runs every task in it;
* the largest sum of PSS (proportional set size) over that process and all its descendants —
  datatrove's ``multiprocess`` manager and, with ``--workers`` > 1, its forkserver and pool workers —
  sampled every 50 ms with psutil. PSS rather than RSS because the manager is forked from the stage
  process after the imports: summing RSS would count every page they still share twice (that sum is
  reported too, as ``peak_rss_tree_sum_mb``). A peak shorter than the sampling period can be missed.
  Without psutil only the first measurement is made.

Seconds are wall-clock seconds of each executor's ``run()``; ``total_seconds`` is their sum (imports,
input counting and reading the output back are outside it and reported apart). ``mb_per_s`` is
``input_bytes / total_seconds / 1e6`` with ``input_bytes`` the uncompressed bytes of the input JSONL
lines; ``text_bytes`` counts the UTF-8 bytes of the ``text`` fields alone.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NOT_INSTALLED = "datatrove is not installed: pip install -e '.[bench]'"
INPUT_SUFFIXES = (".jsonl", ".jsonl.gz")
STAGES = ("stage1_clean_signatures", "stage2_buckets", "stage3_cluster", "stage4_filter_parquet")
# Folders this script creates under the work directory; each run empties them first (and nothing else).
WORK_SUBDIRS = ("intermediate", "signatures", "buckets", "remove_ids", "output", "logs")
LOG_NAME = "datatrove.log"
RSS_SAMPLE_SECONDS = 0.05
PSS_EVERY = 10  # PSS and the process list every 10 samples (0.5 s)

# C4QualityFilter options. In datatrove 0.10.1 the filter already cleans line by line and writes the kept
# lines back into the document (doc.text = "\n".join(kept_lines)); it drops a whole document only for the
# document-level rules. All values below are datatrove's defaults, spelled out so that a change of default
# in a later datatrove cannot change the baseline silently:
#   split_paragraph=True      lines are "\n"-separated lines, as in C4 (False would split into sentences
#                             and join what is kept with spaces, losing the line structure);
#   line-level, each removes the line and keeps the rest of the document:
#     remove_citations=True        strips "[1]", "[edit]", "[citation needed]" from a line;
#     filter_no_terminal_punct=True  drops lines not ending in . ? ! " ' (or ending in "...");
#     min_words_per_line=3         drops lines of fewer than 3 words;
#     max_word_length=1000         drops lines with a word longer than 1000 characters;
#     filter_javascript=True       drops lines mentioning "javascript";
#     filter_policy=True           drops lines with "terms of use", "privacy policy", cookie phrases;
#   document-level (C4's page rules; datatrove has no line-level variant of these):
#     min_num_sentences=5          drops documents with fewer than 5 sentences in the kept lines;
#     filter_lorem_ipsum=True      drops documents containing "lorem ipsum";
#     filter_curly_bracket=True    drops documents containing "{".
C4_OPTIONS = {
    "split_paragraph": True,
    "remove_citations": True,
    "filter_no_terminal_punct": True,
    "min_words_per_line": 3,
    "max_word_length": 1000,
    "filter_javascript": True,
    "filter_policy": True,
    "min_num_sentences": 5,
    "filter_lorem_ipsum": True,
    "filter_curly_bracket": True,
}


def datatrove_installed() -> bool:
    return importlib.util.find_spec("datatrove") is not None


def input_files(input_dir: Path) -> list[Path]:
    """The JSONL files of ``input_dir`` (not recursive), in the order datatrove's tasks take them."""
    return sorted(p for p in Path(input_dir).iterdir() if p.is_file() and p.name.endswith(INPUT_SUFFIXES))


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def count_input(files: list[Path]) -> dict:
    """Documents, uncompressed JSONL bytes, bytes on disk and UTF-8 bytes of the text fields."""
    docs = input_bytes = text_bytes = 0
    for path in files:
        with _open_bytes(path) as f:
            for line in f:
                input_bytes += len(line)
                if not line.strip():
                    continue
                docs += 1
                text = json.loads(line).get("text")
                if isinstance(text, str):
                    text_bytes += len(text.encode("utf-8"))
    return {
        "docs_in": docs,
        "input_bytes": input_bytes,
        "input_file_bytes": sum(p.stat().st_size for p in files),
        "text_bytes": text_bytes,
    }


def _mb(kib: int) -> float:
    return round(kib * 1024 / 1e6, 1)  # ru_maxrss is in KiB on Linux


# --------------------------------------------------------------------------------------------------
# The stages, run inside the fresh process.


def _run_stages(input_dir: Path, work_dir: Path, workers: int) -> dict:
    t_import = time.perf_counter()
    import datatrove  # noqa: F401
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
    )
    from datatrove.pipeline.filters import C4QualityFilter
    from datatrove.pipeline.formatters import FTFYFormatter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter, ParquetWriter

    import_seconds = time.perf_counter() - t_import
    rss_after_imports_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    files = input_files(input_dir)
    tasks = len(files)
    workers = max(1, workers)
    config = MinhashConfig()
    d = {name: work_dir / name for name in WORK_SUBDIRS}
    input_paths = d["logs"] / "input_paths.txt"
    input_paths.write_text("".join(f"{p.name}\n" for p in files))

    stage1 = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(input_dir), paths_file=str(input_paths), text_key="text", id_key="id"),
            FTFYFormatter(),
            C4QualityFilter(**C4_OPTIONS),
            JsonlWriter(str(d["intermediate"])),
            MinhashDedupSignature(output_folder=str(d["signatures"]), config=config),
        ],
        tasks=tasks,
        workers=workers,
        logging_dir=str(d["logs"] / "stage1"),
        skip_completed=False,
    )
    stage2 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupBuckets(input_folder=str(d["signatures"]), output_folder=str(d["buckets"]), config=config)
        ],
        tasks=config.num_buckets,
        workers=min(workers, config.num_buckets),
        logging_dir=str(d["logs"] / "stage2"),
        skip_completed=False,
    )
    stage3 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(input_folder=str(d["buckets"]), output_folder=str(d["remove_ids"]), config=config)
        ],
        tasks=1,
        workers=1,
        logging_dir=str(d["logs"] / "stage3"),
        skip_completed=False,
    )
    # Stage 4's task r must read exactly the intermediate file that stage 1's task r wrote, because the
    # removal lists are per task and by position in that file. JsonlWriter writes no file for a task
    # whose documents were all filtered out, which would shift datatrove's file-to-task assignment, so
    # the reader gets an explicit list of one file per task, and an empty file stands in for a missing one.
    intermediate_names = [f"{rank:05d}.jsonl.gz" for rank in range(tasks)]
    intermediate_paths = d["logs"] / "intermediate_paths.txt"
    intermediate_paths.write_text("".join(f"{name}\n" for name in intermediate_names))
    stage4 = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(d["intermediate"]), paths_file=str(intermediate_paths), text_key="text", id_key="id"),
            MinhashDedupFilter(input_folder=str(d["remove_ids"])),
            ParquetWriter(str(d["output"])),
        ],
        tasks=tasks,
        workers=workers,
        logging_dir=str(d["logs"] / "stage4"),
        skip_completed=False,
    )

    seconds = {}
    t = time.perf_counter()
    stage1.run()
    for name in intermediate_names:
        path = d["intermediate"] / name
        if not path.exists():
            with gzip.open(path, "wb"):
                pass
    seconds[STAGES[0]] = time.perf_counter() - t
    for name, executor in zip(STAGES[1:], (stage2, stage3, stage4), strict=True):
        t = time.perf_counter()
        executor.run()
        seconds[name] = time.perf_counter() - t

    return {
        "stage_seconds": {k: round(v, 3) for k, v in seconds.items()},
        "total_seconds": round(sum(seconds.values()), 3),
        "import_seconds": round(import_seconds, 3),
        "rss_after_imports_mb": _mb(rss_after_imports_kib),
        "peak_rss_runner_mb": _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
        "peak_rss_reaped_children_mb": _mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss),
        "tasks": tasks,
        "n_grams": config.n_grams,
        "num_buckets": config.num_buckets,
        "hashes_per_bucket": config.hashes_per_bucket,
        "minhash_seed": config.seed,
        "minhash_hash": f"{config.hash_config.hash_fc}/{config.hash_config.precision}",
        "stage1_stats": _stage1_stats(d["logs"] / "stage1" / "stats.json"),
    }


def _stage1_stats(path: Path) -> dict:
    """Line and document counts of the C4 filter from datatrove's merged stats of stage 1."""
    out: dict = {}
    try:
        steps = json.loads(path.read_text())
    except (OSError, ValueError):
        return out
    for step in steps:
        if "C4" not in step.get("name", ""):
            continue
        for key, value in step.get("stats", {}).items():
            if isinstance(value, dict) and "total" in value:
                out[key] = value["total"]
            elif isinstance(value, int | float):
                out[key] = value
    return out


# --------------------------------------------------------------------------------------------------
# The caller's side.


def sample_tree_memory(proc: subprocess.Popen) -> tuple[dict | None, int]:
    """Wait for ``proc``, sampling its process tree; return the peaks (MB) and the exit code.

    The peaks are of the sum of RSS (``rss``), the sum of PSS (``pss``) and the RSS of the largest
    single process (``largest``); None without psutil. Both the sum of RSS and the sum of PSS are
    sampled. PSS splits each shared page among the processes that map it, so its sum is the tree's
    real footprint; the RSS sum counts a page that a forked child still shares with its parent once
    per process. ``cpu`` gives the CPU seconds (user and system) of the tree's processes by
    :func:`process_role`, as last read before each one ended (read every 0.5 s: up to half a second
    of a process's CPU at its end is not counted).
    """
    try:
        import psutil
    except ImportError:
        return None, proc.wait()
    peak_rss = peak_pss = peak_one = 0
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        return None, proc.wait()
    # RSS (one read of /proc/PID/statm per process) every sample; the process list and PSS (a walk
    # of /proc/PID/smaps, a few ms per process) every PSS_EVERY samples, so that the sampler itself
    # takes a few per cent of a core rather than a third of one.
    members: list = []
    pss_by_pid: dict[int, int] = {}
    cpu_by_pid: dict[int, tuple[str, float]] = {}
    tick = 0
    while proc.poll() is None:
        if tick % PSS_EVERY == 0:
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            alive = {p.pid for p in members}
            pss_by_pid = {pid: v for pid, v in pss_by_pid.items() if pid in alive}
            for p in members:
                try:
                    t = p.cpu_times()
                    role = cpu_by_pid[p.pid][0] if p.pid in cpu_by_pid else process_role(p, root)
                    cpu_by_pid[p.pid] = (role, t.user + t.system)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        rss = 0
        for p in members:
            try:
                if tick % PSS_EVERY == 0:
                    mem = p.memory_full_info()
                    pss_by_pid[p.pid] = getattr(mem, "pss", mem.rss)
                else:
                    mem = p.memory_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pss_by_pid.pop(p.pid, None)
                continue
            rss += mem.rss
            peak_one = max(peak_one, mem.rss)
        peak_rss = max(peak_rss, rss)
        peak_pss = max(peak_pss, sum(pss_by_pid.values()))
        tick += 1
        time.sleep(RSS_SAMPLE_SECONDS)
    cpu: dict[str, float] = {}
    for role, seconds in cpu_by_pid.values():
        cpu[role] = round(cpu.get(role, 0.0) + seconds, 2)
    return ({"rss": round(peak_rss / 1e6, 1), "pss": round(peak_pss / 1e6, 1), "largest": round(peak_one / 1e6, 1),
             "cpu": cpu}, proc.wait())


def process_role(p: Any, root: Any) -> str:
    """What a process of a benchmarked run is: the command itself, Prefect's API server, a worker
    process (multiprocessing's or Dask's), or other."""
    if p.pid == root.pid:
        return "command"
    try:
        cmd = " ".join(p.cmdline())
    except Exception:  # noqa: BLE001 - a process gone or hidden
        return "other"
    if "uvicorn" in cmd and "prefect" in cmd:
        return "api server"
    if "multiprocessing.spawn" in cmd or "multiprocessing.forkserver" in cmd or "distributed" in cmd:
        return "workers"
    return "other"


def _count_jsonl_gz(folder: Path) -> int:
    n = 0
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            n += sum(1 for line in f if line.strip())
    return n


def _read_output(folder: Path) -> tuple[int, list[str]]:
    import pyarrow.parquet as pq

    files = sorted(folder.glob("*.parquet"))
    return sum(pq.read_table(f).num_rows for f in files), [str(f) for f in files]


def run_datatrove(input_dir: Path, work_dir: Path, workers: int = 1) -> dict:
    """Run datatrove's equivalent of the scrapewash pipeline on ``input_dir``, timed; see the module doc.

    ``work_dir`` receives the intermediate, signatures, duplicate lists, logs and the Parquet output
    (``work_dir/output``); its folders of those names are emptied first.
    """
    if not datatrove_installed():
        raise RuntimeError(NOT_INSTALLED)
    input_dir = Path(input_dir).resolve()
    work_dir = Path(work_dir).resolve()
    files = input_files(input_dir)
    if not files:
        raise ValueError(f"no *.jsonl or *.jsonl.gz files in {input_dir}")
    counts = count_input(files)

    work_dir.mkdir(parents=True, exist_ok=True)
    for name in WORK_SUBDIRS:
        shutil.rmtree(work_dir / name, ignore_errors=True)
        (work_dir / name).mkdir()
    result_path = work_dir / "logs" / "runner_result.json"
    log_path = work_dir / LOG_NAME

    cmd = [sys.executable, str(Path(__file__).resolve()), str(input_dir), "--work", str(work_dir),
           "--workers", str(workers), "--json", str(result_path), "--runner"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=work_dir)
        tree_peak, code = sample_tree_memory(proc)
    if code != 0:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"datatrove pipeline failed (exit {code}); log {log_path}:\n{tail}")
    run = json.loads(result_path.read_text())

    docs_after_c4 = _count_jsonl_gz(work_dir / "intermediate")
    docs_out, parquet_files = _read_output(work_dir / "output")
    total = run["total_seconds"]

    from importlib.metadata import version

    peaks = [run["peak_rss_runner_mb"]] + ([tree_peak["pss"]] if tree_peak else [])
    return {
        "datatrove_version": version("datatrove"),
        "xxhash_version": version("xxhash"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "input_dir": str(input_dir),
        "work_dir": str(work_dir),
        "output_dir": str(work_dir / "output"),
        "log_file": str(log_path),
        "input_files": len(files),
        "tasks": run["tasks"],
        "workers": workers,
        **counts,
        "docs_after_c4": docs_after_c4,
        "docs_out": docs_out,
        "output_files": parquet_files,
        "stage_seconds": run["stage_seconds"],
        "total_seconds": total,
        "import_seconds": run["import_seconds"],
        "mb_per_s": round(counts["input_bytes"] / total / 1e6, 3) if total else None,
        "text_mb_per_s": round(counts["text_bytes"] / total / 1e6, 3) if total else None,
        "docs_per_s": round(counts["docs_in"] / total, 1) if total else None,
        "peak_rss_mb": max(peaks),
        "peak_pss_tree_mb": tree_peak["pss"] if tree_peak else None,
        "peak_rss_tree_sum_mb": tree_peak["rss"] if tree_peak else None,
        "peak_rss_runner_mb": run["peak_rss_runner_mb"],
        "peak_rss_reaped_children_mb": run["peak_rss_reaped_children_mb"],
        "rss_after_imports_mb": run["rss_after_imports_mb"],
        "peak_rss_method": (
            "max(ru_maxrss of the stage process, psutil sum of PSS over its process tree every "
            f"{RSS_SAMPLE_SECONDS:g} s)" if tree_peak else "ru_maxrss of the stage process"
        ),
        "n_grams": run["n_grams"],
        "num_buckets": run["num_buckets"],
        "hashes_per_bucket": run["hashes_per_bucket"],
        "minhash_seed": run["minhash_seed"],
        "minhash_hash": run["minhash_hash"],
        "c4_options": dict(C4_OPTIONS),
        "c4_stats": run["stage1_stats"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input_dir", type=Path, help="folder of *.jsonl / *.jsonl.gz files")
    ap.add_argument("--work", type=Path, required=True, help="work folder (intermediate files, logs, output)")
    ap.add_argument("--workers", type=int, default=1, help="datatrove tasks run at once (default 1)")
    ap.add_argument("--json", type=Path, help="also write the result dict here")
    ap.add_argument("--runner", action="store_true", help=argparse.SUPPRESS)  # the fresh process's side
    args = ap.parse_args(argv)

    if args.runner:
        result = _run_stages(args.input_dir.resolve(), args.work.resolve(), args.workers)
        args.json.write_text(json.dumps(result))
        return 0
    try:
        result = run_datatrove(args.input_dir, args.work, args.workers)
    except RuntimeError as e:
        print(e, file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
