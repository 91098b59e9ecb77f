"""The ``clean-corpus`` Prefect flow.

plan → prepare shards → find site templates → sign shards → find near-duplicate documents →
find duplicate paragraphs → finalize shards → commit.

The flow only orchestrates. Each stage is a plain function in ``tasks/``
(``prepare.prepare_shard``, ``templates.find_templates``, ``sign.sign_shards``,
``dedup.find_duplicates``, ``dedup.find_duplicate_paragraphs``, ``finalize.finalize_shards``,
``write.commit``) wrapped here as a Prefect task (one per shard, or per batch of shards for the
short sign and finalize stages);
tasks receive and return shard descriptions, paths and small dicts of counts,
never documents.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed, wait
from prefect.runtime import deployment, flow_run

from scrapewash import __version__, schemas
from scrapewash.config import Config, ParagraphDedupConfig, RunParameters
from scrapewash.flows.runners import offload, parallel_slots, runner_from_env
from scrapewash.tasks import boilerplate, content, dedup, finalize, index, prepare, sign, templates, write
from scrapewash.tasks.read import Plan, Shard, plan_inputs
from scrapewash.tasks.write import RunPaths


class ShardFailed(RuntimeError):
    """One or more shard tasks failed; the run is not committed."""


# --- thin task wrappers ---------------------------------------------------------------------------


@task(name="prepare-shard", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def prepare_shard_task(shard: Shard, paths: RunPaths, config: Config, processed_at: datetime) -> dict[str, Any]:
    return offload(prepare.prepare_shard, shard, paths, config, processed_at)


@task(name="find-templates", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2)
def find_templates_task(prepared: list[str], config: Config, out: str, stats_out: str, index_root: str | None,
                        exclude: list[str]) -> dict[str, Any]:
    t = config.templates
    off = 2**31 - 1
    return offload(templates.find_templates, [Path(p) for p in prepared], t.min_docs if t.enabled else off,
                   Path(out), t.min_docs_short if t.enabled else off, t.short_words, Path(stats_out),
                   Path(index_root) if index_root else None, exclude)


@task(name="sign-shards", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def sign_shards_task(shard_indexes: list[int], paths: RunPaths, config: Config,
                     templates_path: str) -> list[dict[str, Any]]:
    return offload(sign.sign_shards, shard_indexes, paths, config, Path(templates_path))


@task(name="find-duplicates", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2)
def find_duplicates_task(signed: list[str], config: Config, decisions: str, index_root: str | None,
                         exclude: list[str]) -> dict[str, Any]:
    return offload(dedup.find_duplicates, [Path(p) for p in signed], config.dedup, Path(decisions),
                   Path(index_root) if index_root else None, exclude)


@task(name="find-duplicate-paragraphs", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2)
def find_duplicate_paragraphs_task(signed: list[str], prepared: list[str], decisions: str, out: str,
                                   cfg: ParagraphDedupConfig, index_root: str | None,
                                   exclude: list[str]) -> dict[str, Any]:
    return offload(dedup.find_duplicate_paragraphs, [Path(p) for p in signed], [Path(p) for p in prepared],
                   Path(decisions), Path(out), cfg, Path(index_root) if index_root else None, exclude)


@task(name="finalize-shards", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def finalize_shards_task(shard_indexes: list[int], paths: RunPaths, config: Config, decisions: str,
                         processed_at: datetime, templates_path: str,
                         paragraph_decisions: str) -> list[dict[str, Any]]:
    return offload(finalize.finalize_shards, shard_indexes, paths, config, Path(decisions), processed_at,
                   Path(templates_path), Path(paragraph_decisions))


@task(name="commit", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def commit_task(paths: RunPaths, manifest: dict[str, Any]) -> None:
    write.commit(paths, manifest)


# --- helpers --------------------------------------------------------------------------------------


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class Progress:
    """A progress artifact that moves as the run's stages and shard tasks finish.

    Each stage owns a share of the bar; its tasks split that share equally. The artifact is updated
    when a stage ends, and within a stage at most once every ``min_interval`` seconds: each update is
    a call to the API and an event the server records, which on a run of many short shard tasks cost
    the flow's process and the server a few seconds of CPU taken from the workers.
    """

    SHARES = {"prepare": 0.45, "templates": 0.05, "sign": 0.2, "duplicates": 0.05, "paragraphs": 0.05,
              "finalize": 0.15, "commit": 0.05}

    def __init__(self, run_id: str, min_interval: float = 2.0):
        self.done = 0.0
        self.min_interval = min_interval
        self.updates = 0
        self._shown = 0.0
        self._last = time.monotonic()
        self.artifact_id = create_progress_artifact(
            progress=0.0, key="clean-corpus-progress", description=f"Progress of clean-corpus run {run_id}")

    def advance(self, stage: str, fraction: float = 1.0, stage_done: bool = True) -> None:
        """Count ``fraction`` of ``stage`` as done (``stage_done``: the stage has ended)."""
        self.done = min(1.0, self.done + self.SHARES[stage] * fraction)
        now = time.monotonic()
        if stage_done or now - self._last >= self.min_interval:
            self._show(now)

    def _show(self, now: float) -> None:
        value = round(100 * self.done, 1)
        if self.artifact_id is not None and value != self._shown:
            update_progress_artifact(self.artifact_id, progress=value)
            self.updates += 1
            self._shown = value
        self._last = now

    def finish(self) -> None:
        self.done = 1.0
        self._show(time.monotonic())


def _results(futures: list[PrefectFuture], what: str, progress: Progress | None = None,
             stage: str = "") -> list[dict[str, Any]]:
    """Results of submitted tasks, in submission order; raise ShardFailed naming every failed one."""
    for n, _ in enumerate(as_completed(futures), 1):
        if progress is not None:
            progress.advance(stage, 1 / len(futures), stage_done=n == len(futures))
    wait(futures)  # settles each future's final state (a done callback can fire before it is recorded)
    results, failures = [], []
    for fut in futures:
        state = fut.state
        if state.is_completed():
            results.append(fut.result())
        else:
            try:
                fut.result(raise_on_failure=True)
                detail = state.message or state.name
            except BaseException as e:  # noqa: BLE001 - we report every failure, then raise
                detail = f"{type(e).__name__}: {e}" + "".join(f" ({n})" for n in getattr(e, "__notes__", ()))
            failures.append(f"{what} task {fut.task_run_id}: {detail}")
    if failures:
        raise ShardFailed(f"{len(failures)} of {len(futures)} {what} tasks failed; nothing was committed. "
                          + " | ".join(failures[:5]))
    return results


# The sign and finalize stages take a tenth of a second per shard of a few MB: as one task run per
# shard, Prefect's own work for each run (recording its states, its logs and its events, in the
# flow's process and in the API server) takes a fifth of the two cores' time those stages have. They
# run as a few task runs per worker instead, each for a batch of shards.
BATCHES_PER_SLOT = 2
MAX_BATCH_BYTES = 256_000_000  # of input per batch: bounds a retry's work and the progress bar's steps


def short_task_batches(shards: list[Shard], slots: int | None) -> list[list[Shard]]:
    """The shards in batches for the short per-shard stages: ``BATCHES_PER_SLOT`` batches per task
    the runner runs at once (``slots``), more when batches would cover more than ``MAX_BATCH_BYTES``
    of input on average; one shard per batch when the runner's size is not known."""
    if slots is None:
        return deal(shards, len(shards))
    total = sum(s.size_bytes for s in shards)
    return deal(shards, max(BATCHES_PER_SLOT * slots, -(-total // MAX_BATCH_BYTES)))


def deal(shards: list[Shard], n: int) -> list[list[Shard]]:
    """The shards dealt into at most ``n`` batches of about equal bytes (each shard, largest first,
    to the lightest batch); each batch in plan order, the heaviest batch first."""
    n = max(1, min(n, len(shards)))
    bins: list[list[Shard]] = [[] for _ in range(n)]
    load = [0] * n
    for s in sorted(shards, key=lambda s: (-s.size_bytes, s.index)):
        i = min(range(n), key=lambda j: (load[j], j))
        bins[i].append(s)
        load[i] += s.size_bytes
    heavy_first = sorted(range(n), key=lambda j: (-load[j], j))
    return [sorted(bins[j], key=lambda s: s.index) for j in heavy_first if bins[j]]


def _batch_name(stage: str, batch: list[Shard]) -> str:
    return f"{stage} {batch[0].label}" + (f" and {len(batch) - 1} more" if len(batch) > 1 else "")


def _in_plan_order(shards: list[Shard], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results of tasks submitted for ``shards``, ordered by shard index (the plan's order)."""
    return [r for _, r in sorted(zip((s.index for s in shards), results, strict=True), key=lambda x: x[0])]


def _sum_counters(stats: list[dict[str, Any]], key: str) -> dict[str, int]:
    c: Counter[str] = Counter()
    for s in stats:
        c.update(s.get(key, {}))
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(plan: Plan, prep: list[dict[str, Any]], fin: list[dict[str, Any]], dup: dict[str, Any],
              seconds: float) -> dict[str, Any]:
    docs_in = sum(s["docs_in"] for s in prep)
    quarantined = sum(s["quarantined"] for s in prep) + len(plan.quarantined)
    removed_docs = _sum_counters(prep + fin, "removed_documents")
    nd = sum(s["near_duplicate_documents"] for s in fin)
    if nd:
        removed_docs["near_duplicate_document"] = nd
    kept = sum(s["documents"] for s in fin)
    removed_paragraphs = _sum_counters(prep + fin, "removed_paragraphs")
    in_dups = sum(s["paragraphs_in_duplicates"] for s in fin)
    if in_dups:
        removed_paragraphs["near_duplicate_document"] = in_dups
    mb = plan.total_bytes / 1e6
    q_errors = _sum_counters(prep, "quarantine_errors")
    for q in plan.quarantined:
        q_errors[q.error_type] = q_errors.get(q.error_type, 0) + 1
    return {
        "records_in": docs_in + quarantined,
        "documents_in": docs_in,
        "documents_out": kept,
        "documents_removed": dict(sorted(removed_docs.items())),
        "quarantined": quarantined,
        "quarantine_errors": q_errors,
        "paragraphs_in": sum(s["paragraphs_in"] for s in prep),
        "paragraphs_out": sum(s["paragraphs_kept"] for s in fin),
        "paragraphs_removed": dict(sorted(removed_paragraphs.items())),
        "fragments_removed": _sum_counters(prep, "removed_fragments"),
        "rules": _sum_counters(prep, "rules"),
        "encoding_fixes": _sum_counters(prep, "encoding_fixes"),
        "documents_with_encoding_fixes": sum(s["docs_with_fixes"] for s in prep),
        "dedup": dup,
        "input_files": plan.n_files,
        "input_files_already_read": plan.already_read,
        "skipped_files": len(plan.skipped),
        "shards": len(plan.shards),
        "input_mb": round(mb, 3),
        "duration_s": round(seconds, 3),
        "mb_per_s": round(mb / seconds, 3) if seconds > 0 else None,
        "docs_per_s": round(docs_in / seconds, 1) if seconds > 0 else None,
    }


def summary_rows(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The run summary as (label, value) rows, shared by the artifact and the command line."""
    rows: list[tuple[str, Any]] = [("records in", counts["records_in"]),
                                   ("documents kept", counts["documents_out"])]
    rows += [(f"documents removed: {r}", n) for r, n in counts["documents_removed"].items()]
    rows.append(("quarantined", counts["quarantined"]))
    rows += [(f"quarantined: {e}", n) for e, n in counts["quarantine_errors"].items()]
    rows += [("paragraphs in", counts["paragraphs_in"]), ("paragraphs kept", counts["paragraphs_out"])]
    rows += [("paragraphs moved to the title column" if r == "title" else f"paragraphs removed: {r}", n)
             for r, n in counts["paragraphs_removed"].items()]
    rows += [(f"fragments removed: {r}", n) for r, n in counts["fragments_removed"].items()]
    dedup_stats = counts.get("dedup") or {}
    if dedup_stats.get("duplicates_of_earlier_runs"):
        rows.append(("near-duplicates of earlier runs' documents", dedup_stats["duplicates_of_earlier_runs"]))
    if dedup_stats.get("index_documents_v1"):
        rows.append(("index documents signed by version 1 (Chinese, Japanese, Thai not comparable)",
                     dedup_stats["index_documents_v1"]))
    if (dedup_stats.get("paragraphs") or {}).get("duplicates_of_earlier_runs"):
        rows.append(("paragraphs repeating earlier runs' paragraphs",
                     dedup_stats["paragraphs"]["duplicates_of_earlier_runs"]))
    if counts.get("skipped_files"):
        rows.append(("files skipped (listed in the manifest)", counts["skipped_files"]))
    if counts.get("input_files_already_read"):
        rows.append(("input files already read by earlier runs (skipped)", counts["input_files_already_read"]))
    rows += [
        ("documents with encoding fixes", counts["documents_with_encoding_fixes"]),
        ("input", f"{counts['input_mb']} MB, {counts['input_files']} files, {counts['shards']} shards"),
        ("duration", f"{counts['duration_s']} s"),
        ("throughput", f"{counts['mb_per_s']} MB/s, {counts['docs_per_s']} docs/s"),
    ]
    if counts.get("stage_seconds"):
        rows.append(("seconds by stage", ", ".join(f"{k} {v:g}" for k, v in counts["stage_seconds"].items())))
    return rows


def summary_markdown(run_id: str, out: str, counts: dict[str, Any], plan: Plan | None = None) -> str:
    lines = [f"# clean-corpus run `{run_id}`", "", f"Output: `{os.path.abspath(out)}`", ""]
    if plan is not None and (plan.already_read or plan.settling):
        lines += [f"{plan.already_read} input files were read by earlier runs and skipped; "
                  f"{len(plan.settling)} files modified too recently are left for the next run.", ""]
    if counts.get("committed") is False:
        lines += ["**Nothing to clean**: no new input; nothing was committed.", ""]
        return "\n".join(lines)
    lines += ["| | |", "|---|---:|"]
    lines += [f"| {label} | {value} |" for label, value in summary_rows(counts)]
    lines.append("")
    if counts["rules"]:
        lines += ["## Top rules", "", "| rule | removals |", "|---|---:|"]
        lines += [f"| `{r}` | {n} |" for r, n in list(counts["rules"].items())[:15]]
        lines.append("")
    return "\n".join(lines)


# --- the flow -------------------------------------------------------------------------------------


@flow(name="clean-corpus", log_prints=False, validate_parameters=True, task_runner=runner_from_env(),
      description="Clean raw scraped text (txt, JSONL, CSV, Parquet) into a deduplicated Parquet dataset, "
                  "with an audit table of every removal.")
def clean_corpus(params: RunParameters) -> dict[str, Any]:
    """Clean the input files into a deduplicated Parquet dataset under ``params.out``.

    Args:
        params: What to read, where to write, and how to clean.
    """
    logger = get_run_logger()
    config = params.config
    inputs, out = list(params.inputs), params.out
    started = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    stage_s: dict[str, float] = {}
    mark = [t0]

    def lap(stage: str) -> None:  # wall seconds of each stage, for the summary
        now = time.perf_counter()
        stage_s[stage] = round(now - mark[0], 3)
        mark[0] = now

    run_id = params.run_id or new_run_id(started)
    write.check_output_root(out)
    with write.output_lock(out, on_wait=lambda: logger.info("waiting for another run writing to %s", out)):
        for action in write.recover(out):
            logger.warning("recovery: %s", action)
        paths = RunPaths(out, run_id)
        known = None if params.reprocess else write.read_input_ledger(out)
        settle = time.time_ns() - int(params.settle_seconds * 1e9) if params.settle_seconds else None
        plan = plan_inputs(inputs, config.read.docs_per_shard, config.read.bytes_per_shard,
                           known=known, modified_before_ns=settle)
        logger.info("run %s: %d input files (%.1f MB) in %d shards; %d skipped, %d unreadable",
                    run_id, plan.n_files, plan.total_bytes / 1e6, len(plan.shards), len(plan.skipped),
                    len(plan.quarantined))
        if plan.already_read or plan.settling:
            logger.info("%d input files already read by earlier runs (%d of them under another name), "
                        "%d left for the next run (modified in the last %g s)", plan.already_read,
                        len(plan.same_content), len(plan.settling), params.settle_seconds)
        for path, earlier in plan.same_content[:20]:
            logger.info("not read again: %s has the same content as %s, read by an earlier run", path, earlier)
        supersedes = write.runs_covered_by(out, plan.ledger) if params.reprocess else []
        if supersedes:
            logger.info("reprocessing: this run supersedes runs %s (all their inputs are read again)",
                        ", ".join(supersedes))
        index_root = os.path.abspath(out) if config.dedup.across_runs else None
        for path, why in plan.skipped[:20]:
            logger.info("skipped %s: %s", path, why)
        if not plan.shards and not plan.quarantined:
            counts = summarize(plan, [], [], {}, time.perf_counter() - t0)
            counts.update(run_id=run_id, output=os.path.abspath(out), committed=False)
            logger.info("nothing to clean: no new input in %s; nothing was committed", ", ".join(inputs))
            create_markdown_artifact(
                key="clean-corpus-summary", markdown=summary_markdown(run_id, out, counts, plan),
                description=f"Summary of clean-corpus run {run_id} (no new input)")
            return counts
        progress = Progress(run_id)
        if plan.quarantined:
            with write.ParquetSink(paths.staged("quarantine") / "part-plan.parquet",
                                   schemas.versioned("quarantine")) as q:
                for rec in plan.quarantined:
                    logger.warning("quarantined %s: %s", rec.source, rec.error)
                    q.add(prepare.quarantine_row(rec, run_id, started))
        rules = boilerplate.rules_for(config.boilerplate)
        c = config.content
        line_model = content.model_info(c.model, c.threshold) if c.enabled else None
        lap("plan")

        # Shards are handed out largest first, so that no worker is left with a big one at the end;
        # results are put back in plan order.
        big_first = sorted(plan.shards, key=lambda s: -s.size_bytes)
        prep = _in_plan_order(big_first, _results(
            [prepare_shard_task.with_options(task_run_name=f"prepare {s.label}").submit(s, paths, config, started)
             for s in big_first], "prepare-shard", progress, "prepare"))
        for s in prep:
            if s["quarantined"]:
                logger.warning("shard %s: %d records quarantined (%s)", s["label"], s["quarantined"],
                               s["quarantine_errors"])
        lap("prepare")
        prepared = sorted(str(p) for p in (paths.staging / "prepared").glob("shard-*.parquet"))
        templates_path = str(paths.staging / "templates.parquet")
        tpl = find_templates_task.submit(prepared, config, templates_path,
                                         str(paths.staged(index.TEMPLATES) / "part-00000.parquet"), index_root,
                                         supersedes).result()
        progress.advance("templates")
        lap("templates")
        logger.info("site templates: %d template paragraphs on %d sites", tpl["template_keys"],
                    tpl["sites_with_templates"])
        batches = short_task_batches(plan.shards, parallel_slots(FlowRunContext.get().task_runner))
        _results([sign_shards_task.with_options(task_run_name=_batch_name("sign", b))
                  .submit([s.index for s in b], paths, config, templates_path) for b in batches], "sign-shards",
                 progress, "sign")
        lap("sign")
        signed = sorted(str(p) for p in (paths.staging / "signed").glob("shard-*.parquet"))
        decisions = str(paths.staging / "decisions.parquet")
        dup = find_duplicates_task.submit(signed, config, decisions, index_root, supersedes).result()
        progress.advance("duplicates")
        lap("duplicates")
        logger.info("near-duplicates: %d candidate pairs, %d verified, %d clusters, %d documents removed",
                    dup["candidate_pairs"], dup["verified_pairs"], dup["clusters"], dup["duplicates_removed"])
        if dup.get("index_documents_v1"):
            logger.warning("%d documents of the dedup index were signed by an earlier version (index version 1), "
                           "which made one token of a whole clause of Chinese, Japanese or Thai: those documents "
                           "are not found as near copies of this run's; all others are", dup["index_documents_v1"])
        paragraph_decisions = str(paths.staging / "paragraph-decisions.parquet")
        if config.paragraph_dedup.enabled:
            pdup = find_duplicate_paragraphs_task.submit(signed, prepared, decisions, paragraph_decisions,
                                                         config.paragraph_dedup, index_root, supersedes).result()
            logger.info("duplicate paragraphs across documents: %d exact of %d judged, %d near of %d judged",
                        pdup["exact_duplicates"], pdup["paragraphs_judged"], pdup.get("near_duplicates", 0),
                        pdup.get("near_judged", 0))
            dup["paragraphs"] = pdup
        progress.advance("paragraphs")
        lap("paragraphs")
        dup["templates"] = tpl
        fin_batches = _results(
            [finalize_shards_task.with_options(task_run_name=_batch_name("finalize", b))
             .submit([s.index for s in b], paths, config, decisions, started, templates_path, paragraph_decisions)
             for b in batches], "finalize-shards", progress, "finalize")
        fin = _in_plan_order([s for b in batches for s in b], [r for rs in fin_batches for r in rs])
        lap("finalize")

        seconds = time.perf_counter() - t0
        counts = summarize(plan, prep, fin, dup, seconds)
        counts["stage_seconds"] = stage_s
        staged = sum(s["docs_staged"] for s in prep)
        written = sum(s["documents"] + s["near_duplicate_documents"] + s["removed_documents"].get("empty_document", 0)
                      for s in fin)
        if staged != written:
            raise RuntimeError(f"internal error: {staged} documents staged but {written} written")
        manifest = {
            "run_id": run_id,
            "status": "committed",
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scrapewash_version": __version__,
            "prefect_flow_run_id": str(flow_run.get_id() or ""),
            "deployment": deployment.get_name(),
            "inputs": inputs,
            "reprocess": params.reprocess,
            "supersedes": supersedes,
            "output": os.path.abspath(out),
            "skipped_files": [{"path": p, "reason": r} for p, r in plan.skipped],
            "input_files": plan.ledger,
            "config": config.model_dump(mode="json"),
            "config_fingerprint": config.fingerprint(),
            "rule_packs": rules.versions,
            "line_model": line_model,
            "schema_versions": dict(schemas.VERSIONS),
            "counts": counts,
            "shards": [{"prepare": p, "finalize": f} for p, f in zip(prep, fin, strict=True)],
        }
        commit_task(paths, manifest)
        lap("commit")
        for old in write.retire_superseded(out, supersedes):
            logger.info("moved superseded run %s to %s", old, os.path.join(os.path.abspath(out), "_superseded"))
        progress.finish()
    counts.update(run_id=run_id, output=os.path.abspath(out), committed=True)
    logger.info("committed run %s: %d documents in, %d kept, %s removed, %d quarantined, %.1f MB/s",
                run_id, counts["documents_in"], counts["documents_out"], counts["documents_removed"],
                counts["quarantined"], counts["mb_per_s"] or 0)
    create_markdown_artifact(key="clean-corpus-summary", markdown=summary_markdown(run_id, out, counts, plan),
                             description=f"Summary of clean-corpus run {run_id}")
    if plan.quarantined or counts["quarantined"]:
        _quarantine_artifact(paths)
    return counts


def _quarantine_artifact(paths: RunPaths) -> None:
    import pyarrow.dataset as ds

    d = paths.final("quarantine")
    if not d.is_dir():
        return
    t = ds.dataset(str(d), format="parquet").to_table(columns=["source", "position", "error_type", "error"])
    rows = t.slice(0, 200).to_pylist()
    create_table_artifact(key="clean-corpus-quarantine", table=rows,
                          description=f"Quarantined inputs of run {paths.run_id} (first {len(rows)} of {t.num_rows})")
