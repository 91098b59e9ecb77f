"""The ``clean-corpus`` Prefect flow.

plan → prepare shards → find site templates → sign shards → find near-duplicate documents →
find duplicate paragraphs → finalize shards → commit.

The flow only orchestrates. Each stage is a plain function in ``tasks/``
(``prepare.prepare_shard``, ``templates.find_templates``, ``sign.sign_shard``,
``dedup.find_duplicates``, ``dedup.find_duplicate_paragraphs``, ``finalize.finalize_shard``,
``write.commit``) wrapped here as a Prefect task;
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
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run

from scrapewash import __version__, schemas
from scrapewash.config import Config, ParagraphDedupConfig
from scrapewash.tasks import boilerplate, content, dedup, finalize, prepare, sign, templates, write
from scrapewash.tasks.read import Plan, Shard, plan_inputs
from scrapewash.tasks.write import RunPaths


class ShardFailed(RuntimeError):
    """One or more shard tasks failed; the run is not committed."""


# --- thin task wrappers ---------------------------------------------------------------------------


@task(name="prepare-shard", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def prepare_shard_task(shard: Shard, paths: RunPaths, config: Config, processed_at: datetime) -> dict[str, Any]:
    return prepare.prepare_shard(shard, paths, config, processed_at)


@task(name="find-templates", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2)
def find_templates_task(prepared: list[str], config: Config, out: str) -> dict[str, Any]:
    t = config.templates
    off = 2**31 - 1
    return templates.find_templates([Path(p) for p in prepared], t.min_docs if t.enabled else off, Path(out),
                                    t.min_docs_short if t.enabled else off, t.short_words)


@task(name="sign-shard", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def sign_shard_task(shard_index: int, paths: RunPaths, config: Config, templates_path: str) -> dict[str, Any]:
    return sign.sign_shard(shard_index, paths, config, Path(templates_path))


@task(name="find-duplicates", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2)
def find_duplicates_task(signed: list[str], config: Config, decisions: str) -> dict[str, Any]:
    return dedup.find_duplicates([Path(p) for p in signed], config.dedup, Path(decisions))


@task(name="find-duplicate-paragraphs", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2)
def find_duplicate_paragraphs_task(signed: list[str], prepared: list[str], decisions: str, out: str,
                                   cfg: ParagraphDedupConfig) -> dict[str, Any]:
    return dedup.find_duplicate_paragraphs([Path(p) for p in signed], [Path(p) for p in prepared], Path(decisions),
                                           Path(out), cfg)


@task(name="finalize-shard", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def finalize_shard_task(shard_index: int, paths: RunPaths, config: Config, decisions: str,
                        processed_at: datetime, templates_path: str, paragraph_decisions: str) -> dict[str, Any]:
    return finalize.finalize_shard(shard_index, paths, config, Path(decisions), processed_at,
                                   Path(templates_path), Path(paragraph_decisions))


@task(name="commit", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def commit_task(paths: RunPaths, manifest: dict[str, Any]) -> None:
    write.commit(paths, manifest)


# --- helpers --------------------------------------------------------------------------------------


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _results(futures: list[PrefectFuture], what: str) -> list[dict[str, Any]]:
    """Results of submitted tasks; raise ShardFailed naming every failed one."""
    wait(futures)
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
                detail = f"{type(e).__name__}: {e}"
            failures.append(f"{what} task {fut.task_run_id}: {detail}")
    if failures:
        raise ShardFailed(f"{len(failures)} of {len(futures)} {what} tasks failed; nothing was committed. "
                          + " | ".join(failures[:5]))
    return results


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
    rows += [(f"paragraphs removed: {r}", n) for r, n in counts["paragraphs_removed"].items()]
    rows += [(f"fragments removed: {r}", n) for r, n in counts["fragments_removed"].items()]
    rows += [
        ("documents with encoding fixes", counts["documents_with_encoding_fixes"]),
        ("input", f"{counts['input_mb']} MB, {counts['input_files']} files, {counts['shards']} shards"),
        ("duration", f"{counts['duration_s']} s"),
        ("throughput", f"{counts['mb_per_s']} MB/s, {counts['docs_per_s']} docs/s"),
    ]
    return rows


def summary_markdown(run_id: str, out: str, counts: dict[str, Any]) -> str:
    lines = [f"# clean-corpus run `{run_id}`", "", f"Output: `{os.path.abspath(out)}`", "", "| | |", "|---|---:|"]
    lines += [f"| {label} | {value} |" for label, value in summary_rows(counts)]
    lines.append("")
    if counts["rules"]:
        lines += ["## Top rules", "", "| rule | removals |", "|---|---:|"]
        lines += [f"| `{r}` | {n} |" for r, n in list(counts["rules"].items())[:15]]
        lines.append("")
    return "\n".join(lines)


# --- the flow -------------------------------------------------------------------------------------


@flow(name="clean-corpus", log_prints=False, validate_parameters=True)
def clean_corpus(inputs: list[str], out: str = "output", config: Config | None = None,
                 run_id: str | None = None) -> dict[str, Any]:
    """Clean raw scraped text files into a deduplicated Parquet dataset under ``out``."""
    logger = get_run_logger()
    config = config or Config()
    started = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    run_id = run_id or new_run_id(started)
    write.check_output_root(out)
    with write.output_lock(out, on_wait=lambda: logger.info("waiting for another run writing to %s", out)):
        for action in write.recover(out):
            logger.warning("recovery: %s", action)
        paths = RunPaths(out, run_id)
        plan = plan_inputs(inputs, config.read.docs_per_shard, config.read.bytes_per_shard)
        logger.info("run %s: %d input files (%.1f MB) in %d shards; %d skipped, %d unreadable",
                    run_id, plan.n_files, plan.total_bytes / 1e6, len(plan.shards), len(plan.skipped),
                    len(plan.quarantined))
        for path, why in plan.skipped[:20]:
            logger.info("skipped %s: %s", path, why)
        if plan.quarantined:
            with write.ParquetSink(paths.staged("quarantine") / "part-plan.parquet",
                                   schemas.versioned("quarantine")) as q:
                for rec in plan.quarantined:
                    logger.warning("quarantined %s: %s", rec.source, rec.error)
                    q.add(prepare.quarantine_row(rec, run_id, started))
        rules = boilerplate.load_rules(config.boilerplate.packs, config.boilerplate.disable_rules,
                                       config.boilerplate.extra_rule_dirs)
        c = config.content
        line_model = content.model_info(c.model, c.threshold) if c.enabled else None

        prep = _results([prepare_shard_task.with_options(task_run_name=f"prepare {s.label}")
                         .submit(s, paths, config, started) for s in plan.shards], "prepare-shard")
        for s in prep:
            if s["quarantined"]:
                logger.warning("shard %s: %d records quarantined (%s)", s["label"], s["quarantined"],
                               s["quarantine_errors"])
        prepared = sorted(str(p) for p in (paths.staging / "prepared").glob("shard-*.parquet"))
        templates_path = str(paths.staging / "templates.parquet")
        tpl = find_templates_task.submit(prepared, config, templates_path).result()
        logger.info("site templates: %d template paragraphs on %d sites", tpl["template_keys"],
                    tpl["sites_with_templates"])
        _results([sign_shard_task.with_options(task_run_name=f"sign {s.label}")
                  .submit(s.index, paths, config, templates_path) for s in plan.shards], "sign-shard")
        signed = sorted(str(p) for p in (paths.staging / "signed").glob("shard-*.parquet"))
        decisions = str(paths.staging / "decisions.parquet")
        dup = find_duplicates_task.submit(signed, config, decisions).result()
        logger.info("near-duplicates: %d candidate pairs, %d verified, %d clusters, %d documents removed",
                    dup["candidate_pairs"], dup["verified_pairs"], dup["clusters"], dup["duplicates_removed"])
        paragraph_decisions = str(paths.staging / "paragraph-decisions.parquet")
        if config.paragraph_dedup.enabled:
            pdup = find_duplicate_paragraphs_task.submit(signed, prepared, decisions, paragraph_decisions,
                                                         config.paragraph_dedup).result()
            logger.info("duplicate paragraphs across documents: %d exact of %d judged, %d near of %d judged",
                        pdup["exact_duplicates"], pdup["paragraphs_judged"], pdup.get("near_duplicates", 0),
                        pdup.get("near_judged", 0))
            dup["paragraphs"] = pdup
        dup["templates"] = tpl
        fin = _results([finalize_shard_task.with_options(task_run_name=f"finalize {s.label}")
                        .submit(s.index, paths, config, decisions, started, templates_path, paragraph_decisions)
                        for s in plan.shards], "finalize-shard")

        seconds = time.perf_counter() - t0
        counts = summarize(plan, prep, fin, dup, seconds)
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
            "inputs": list(inputs),
            "output": os.path.abspath(out),
            "skipped_files": [{"path": p, "reason": r} for p, r in plan.skipped],
            "config": config.model_dump(mode="json"),
            "config_fingerprint": config.fingerprint(),
            "rule_packs": rules.versions,
            "line_model": line_model,
            "schema_versions": dict(schemas.VERSIONS),
            "counts": counts,
            "shards": [{"prepare": p, "finalize": f} for p, f in zip(prep, fin, strict=True)],
        }
        commit_task(paths, manifest)
    counts["run_id"] = run_id
    counts["output"] = os.path.abspath(out)
    logger.info("committed run %s: %d documents in, %d kept, %s removed, %d quarantined, %.1f MB/s",
                run_id, counts["documents_in"], counts["documents_out"], counts["documents_removed"],
                counts["quarantined"], counts["mb_per_s"] or 0)
    create_markdown_artifact(key="clean-corpus-summary", markdown=summary_markdown(run_id, out, counts),
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
