"""Last stage, per shard: apply the corpus-wide decisions and write the public Parquet parts.

For each staged document: drop its site-template paragraphs, then either remove
it whole as a near-duplicate, or drop its paragraphs that duplicate an earlier
document's and keep the rest (a document with nothing left is removed as
``empty_document``). Kept documents go to ``documents/part-NNNNN.parquet``;
every removal of the shard, sorted by input order and paragraph, to
``removed/part-NNNNN.parquet``. Part files are numbered by shard and shards
follow input order, so reading the files in name order gives the same rows in
the same order whatever the shard size or the number of workers.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scrapewash import schemas
from scrapewash.config import Config
from scrapewash.records import Removal
from scrapewash.tasks import index
from scrapewash.tasks.prepare import removal_row, title_note
from scrapewash.tasks.sign import template_mask
from scrapewash.tasks.templates import load_templates
from scrapewash.tasks.write import ParquetSink, RunPaths, each_shard, rows_table


def content_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _rows_between(path: Path, lo: int | None, hi: int | None) -> list[dict[str, Any]]:
    """The rows of a corpus-wide decision table whose ``order`` is in [lo, hi] (all without bounds):
    filtered by Arrow, so that a shard turns only its own rows into Python objects."""
    t = pq.read_table(path)
    if lo is not None and hi is not None:
        t = t.filter(pc.and_(pc.greater_equal(t["order"], lo), pc.less_equal(t["order"], hi)))
    return t.to_pylist()


def load_decisions(path: Path, lo: int | None = None, hi: int | None = None) -> dict[int, dict[str, Any]]:
    if not path.exists():
        return {}
    return {r["order"]: r for r in _rows_between(path, lo, hi)}


def load_paragraph_decisions(path: Path, lo: int | None = None,
                             hi: int | None = None) -> dict[tuple[int, int], dict[str, Any]]:
    if not path.exists():
        return {}
    return {(r["order"], r["paragraph_index"]): r for r in _rows_between(path, lo, hi)}


def _order_range(prepared: Path) -> tuple[int | None, int | None]:
    """The smallest and largest input order of a prepared shard (None, None if it has none)."""
    if not prepared.exists():
        return None, None
    orders = pq.read_table(prepared, columns=["order"])["order"]
    if len(orders) == 0:
        return None, None
    mm = pc.min_max(orders)
    return mm["min"].as_py(), mm["max"].as_py()


# The prepared columns this stage reads (the word counts, key hashes and the removed lines' keys are
# the other stages'): fewer lists made Python objects.
_FINALIZE_COLUMNS = ["order", "doc_id", "url", "source", "input_position", "site", "paragraphs", "pindex", "tkeys",
                     "n_removed_paragraphs", "encoding_fixes", "metadata", "title"]


def finalize_shards(shard_indexes: list[int], paths: RunPaths, config: Config, decisions_path: Path,
                    processed_at: datetime, templates_path: Path | None = None,
                    paragraph_decisions_path: Path | None = None) -> list[dict[str, Any]]:
    """:func:`finalize_shard` of each shard in turn; an error names its shard (:func:`each_shard`)."""
    return each_shard(finalize_shard, shard_indexes, "finalizing", "part-{:05d}.parquet", paths, config,
                      decisions_path, processed_at, templates_path, paragraph_decisions_path)


def finalize_shard(shard_index: int, paths: RunPaths, config: Config, decisions_path: Path,
                   processed_at: datetime, templates_path: Path | None = None,
                   paragraph_decisions_path: Path | None = None) -> dict[str, Any]:
    name = f"shard-{shard_index:05d}.parquet"
    part = f"part-{shard_index:05d}.parquet"
    prepared = paths.staging / "prepared" / name
    # Only this shard's decisions (its documents' input orders): the work per shard does not grow
    # with the corpus.
    lo, hi = _order_range(prepared)
    decisions = load_decisions(decisions_path, lo, hi) if lo is not None else {}
    para_dups = (load_paragraph_decisions(paragraph_decisions_path, lo, hi)
                 if paragraph_decisions_path and lo is not None else {})
    site_templates = load_templates(templates_path) if templates_path else {}
    o = config.output
    stats: dict[str, Any] = {"shard": shard_index, "documents": 0, "near_duplicate_documents": 0,
                             "removed_rows": 0, "paragraphs_kept": 0, "paragraphs_in_duplicates": 0,
                             "removed_paragraphs": Counter(), "removed_documents": Counter()}
    premoved = paths.staging / "premoved" / name
    run_id = paths.run_id

    removed_tables: list[pa.Table] = []
    if premoved.exists():
        removed_tables.append(pq.read_table(premoved))
    rows: list[dict[str, Any]] = []

    def remove(r: Removal, rec: dict[str, Any]) -> None:
        rows.append(removal_row(r, source=rec["source"], url=rec["url"], run_id=run_id,
                                processed_at=processed_at, order=rec["order"]))

    signed = _signed_keys(paths.staging / "signed" / name)
    d = config.dedup
    with ParquetSink(paths.staged("documents") / part, schemas.versioned("documents"), o.compression,
                     o.compression_level, o.row_group_bytes) as docs, \
         ParquetSink(paths.staged(index.DOCUMENTS) / part, index.with_params(index.documents_schema(d.num_perm), d),
                     o.compression, o.compression_level, o.row_group_bytes) as idocs, \
         ParquetSink(paths.staged(index.PARAGRAPHS) / part, index.PARAGRAPHS_SCHEMA, o.compression,
                     o.compression_level, o.row_group_bytes) as iparas:
        pcols: tuple[list[int], list[str], list[int]] = ([], [], [])  # the paragraph index, by column
        if prepared.exists():
            for batch in pq.ParquetFile(prepared).iter_batches(batch_size=2048, columns=_FINALIZE_COLUMNS):
                for rec in batch.to_pylist():
                    kept = _finalize_doc(rec, site_templates.get(rec["site"]), decisions.get(rec["order"]),
                                         para_dups, docs, remove, stats, run_id, processed_at,
                                         config.templates.embedded_run)
                    if kept:
                        _index_doc(rec["doc_id"], kept, signed.get(rec["order"]), idocs, pcols)
        iparas.write_table(pa.table(dict(zip(("key", "doc_id", "paragraph_index"), pcols, strict=True)),
                                    schema=index.PARAGRAPHS_SCHEMA))
    if rows:
        removed_tables.append(rows_table(rows, schemas.staged_removed_schema()))
    if removed_tables:
        rem_schema = schemas.versioned("removed")
        table = pa.concat_tables([t.cast(schemas.staged_removed_schema()) for t in removed_tables])
        # Input order; within a document by paragraph (fragments before the paragraph's own
        # removal), the whole-document row last.
        para = pc.fill_null(table["paragraph_index"], 2**31 - 1)
        part_rank = pc.if_else(pc.equal(table["part"], "fragment"), 0, 1)
        table = table.append_column("_p", para).append_column("_k", part_rank)
        table = table.sort_by([("order", "ascending"), ("_p", "ascending"), ("_k", "ascending")])
        table = table.drop_columns(["order", "_p", "_k"]).replace_schema_metadata(rem_schema.metadata)
        stats["removed_rows"] = table.num_rows
        with ParquetSink(paths.staged("removed") / part, rem_schema, o.compression, o.compression_level,
                         o.row_group_bytes) as sink:
            sink.write_table(table)
    stats["removed_paragraphs"] = dict(stats["removed_paragraphs"])
    stats["removed_documents"] = dict(stats["removed_documents"])
    return stats


def _signed_keys(path: Path) -> dict[int, tuple[Any, dict[int, int]]]:
    """order -> (signature or None, {paragraph index: exact key}) of a signed shard."""
    out: dict[int, tuple[Any, dict[int, int]]] = {}
    if not path.exists():
        return out
    t = pq.read_table(path, columns=["order", "signature", "phash", "pindex"])
    for o, sig, ph, pi in zip(t["order"].to_pylist(), t["signature"].to_pylist(), t["phash"].to_pylist(),
                              t["pindex"].to_pylist(), strict=True):
        out[o] = (sig, dict(zip(pi, ph, strict=True)))
    return out


def _index_doc(doc_id: str, kept: list[int], signed: tuple[Any, dict[int, int]] | None, idocs: ParquetSink,
               pcols: tuple[list[int], list[str], list[int]]) -> None:
    """The dedup index's rows of one kept document: its signature, and its kept paragraphs' keys
    (appended to the columns ``pcols``: key, doc_id, paragraph index)."""
    if signed is None:
        return
    sig, keys = signed
    if sig is not None:
        idocs.add({"doc_id": doc_id, "signature": sig}, 600)
    pkey, pdoc, pidx = pcols
    for i in kept:
        k = keys.get(i)
        if k is not None:
            pkey.append(k)
            pdoc.append(doc_id)
            pidx.append(i)


def _finalize_doc(rec, site_templates, dec, para_dups, docs: ParquetSink, remove, stats, run_id,
                  processed_at, embedded_run: int) -> list[int] | None:
    """Apply the decisions to one document; return the input indexes of the paragraphs it keeps
    (None when it is removed whole). ``embedded_run``: ``[templates] embedded_run``, as the sign
    stage used it, so that the text signed is the text kept."""
    doc_id = rec["doc_id"]
    paragraphs, pindex = rec["paragraphs"], rec["pindex"]
    mask = template_mask(rec["tkeys"], site_templates, embedded_run)
    keep: list[int] = []
    for i, is_template in enumerate(mask):
        if is_template:
            n = site_templates[rec["tkeys"][i]]
            remove(Removal(doc_id, pindex[i], paragraphs[i], "site_template", "paragraph", 1,
                           detail=f"on {n} pages of site {rec['site']}"), rec)
            stats["removed_paragraphs"]["site_template"] += 1
        else:
            keep.append(i)
    n_removed = rec["n_removed_paragraphs"] + len(paragraphs) - len(keep)

    if dec is not None and not dec["keep"]:
        text = "\n\n".join(paragraphs[i] for i in keep)
        stats["near_duplicate_documents"] += 1
        stats["paragraphs_in_duplicates"] += len(keep)
        remove(Removal(doc_id, None, text, "near_duplicate_document", "document", len(keep),
                       duplicate_of=dec["duplicate_of"], similarity=dec["similarity"],
                       detail=_near_detail(dec) + title_note(rec["title"])), rec)
        return None

    final: list[int] = []
    for i in keep:
        dup = para_dups.get((rec["order"], pindex[i]))
        if dup is None:
            final.append(i)
            continue
        remove(Removal(doc_id, pindex[i], paragraphs[i], "duplicate_paragraph", "paragraph", 1,
                       duplicate_of=dup["duplicate_of"], duplicate_of_paragraph=dup["duplicate_of_paragraph"],
                       similarity=dup["similarity"],
                       detail=(f"repeats paragraph {dup['duplicate_of_paragraph']} of {dup['duplicate_of']}"
                               + (", kept by an earlier run" if dup["duplicate_of_order"] == -1 else "")
                               if dup["similarity"] >= 1.0 else
                               f"nearly repeats (Jaccard {dup['similarity']:.2f}) paragraph "
                               f"{dup['duplicate_of_paragraph']} of {dup['duplicate_of']}")), rec)
        stats["removed_paragraphs"]["duplicate_paragraph"] += 1
        n_removed += 1
    if not final:
        stats["removed_documents"]["empty_document"] += 1
        remove(Removal(doc_id, None, "", "empty_document", "document", 0,
                       detail=f"all {n_removed} paragraphs were removed" + title_note(rec["title"])), rec)
        return None
    text = "\n\n".join(paragraphs[i] for i in final)
    stats["documents"] += 1
    stats["paragraphs_kept"] += len(final)
    docs.add({
        "doc_id": doc_id, "text": text, "url": rec["url"], "source": rec["source"],
        "n_paragraphs": len(final), "n_removed_paragraphs": n_removed,
        "encoding_fixes": rec["encoding_fixes"], "duplicates": dec["duplicates"] if dec is not None else 0,
        "content_hash": content_hash(text), "run_id": run_id, "processed_at": processed_at,
        "metadata": rec["metadata"], "n_chars": len(text), "input_position": rec["input_position"],
        "title": rec["title"],
    }, len(text) + len(rec["title"] or "") + 400)
    return [pindex[i] for i in final]


def _near_detail(dec: dict[str, Any]) -> str:
    if dec["cluster"] == -1:
        return (f"near-duplicate (estimated Jaccard {dec['similarity']:.2f}) of {dec['duplicate_of']}, "
                "kept by an earlier run")
    return f"near-duplicate (Jaccard {dec['similarity']:.2f}) of {dec['duplicate_of']}"
