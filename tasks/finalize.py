"""Stage 3, per shard: apply the duplicate decisions and write the public Parquet parts.

Kept documents go to ``documents/part-NNNNN.parquet``; documents removed as
near-duplicates, together with the shard's paragraph removals, go to
``removed/part-NNNNN.parquet`` sorted by input order and paragraph. Part files
are numbered by shard, and shards follow input order, so reading the dataset's
files in name order gives the same rows in the same order whatever the shard
size or the number of workers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scrapewash import schemas
from scrapewash.config import Config
from scrapewash.tasks.write import ParquetSink, RunPaths


def load_decisions(path: Path) -> dict[int, dict[str, Any]]:
    if not path.exists():
        return {}
    return {r["order"]: r for r in pq.read_table(path).to_pylist()}


def finalize_shard(shard_index: int, paths: RunPaths, config: Config, decisions_path: Path,
                   processed_at: datetime) -> dict[str, Any]:
    name = f"shard-{shard_index:05d}.parquet"
    part = f"part-{shard_index:05d}.parquet"
    decisions = load_decisions(decisions_path)
    o = config.output
    stats = {"shard": shard_index, "documents": 0, "near_duplicate_documents": 0, "removed_rows": 0,
             "paragraphs_kept": 0, "paragraphs_in_duplicates": 0}
    prepared = paths.staging / "prepared" / name
    premoved = paths.staging / "premoved" / name
    doc_schema = schemas.versioned("documents")
    rem_schema = schemas.versioned("removed")
    run_id = paths.run_id

    removed_rows: list[pa.Table] = []
    if premoved.exists():
        removed_rows.append(pq.read_table(premoved))

    dup_rows: list[dict[str, Any]] = []
    with ParquetSink(paths.staged("documents") / part, doc_schema, o.compression, o.compression_level,
                     o.row_group_bytes) as docs:
        if prepared.exists():
            pf = pq.ParquetFile(prepared)
            cols = [c for c in pf.schema_arrow.names if c != "signature"]
            for batch in pf.iter_batches(batch_size=2048, columns=cols):
                for rec in batch.to_pylist():
                    dec = decisions.get(rec["order"])
                    if dec is not None and not dec["keep"]:
                        stats["near_duplicate_documents"] += 1
                        stats["paragraphs_in_duplicates"] += rec["n_paragraphs"]
                        dup_rows.append({
                            "doc_id": rec["doc_id"], "paragraph_index": None, "text": rec["text"],
                            "reason": "near_duplicate_document", "rule": None,
                            "duplicate_of": dec["duplicate_of"], "similarity": dec["similarity"],
                            "run_id": run_id, "part": "document", "n_paragraphs": rec["n_paragraphs"],
                            "duplicate_of_paragraph": None,
                            "detail": f"near-duplicate (Jaccard {dec['similarity']:.2f}) of {dec['duplicate_of']}",
                            "source": rec["source"], "url": rec["url"], "processed_at": processed_at,
                            "order": rec["order"],
                        })
                        continue
                    stats["documents"] += 1
                    stats["paragraphs_kept"] += rec["n_paragraphs"]
                    docs.add({
                        "doc_id": rec["doc_id"], "text": rec["text"], "url": rec["url"], "source": rec["source"],
                        "n_paragraphs": rec["n_paragraphs"], "n_removed_paragraphs": rec["n_removed_paragraphs"],
                        "encoding_fixes": rec["encoding_fixes"],
                        "duplicates": dec["duplicates"] if dec is not None else 0,
                        "content_hash": rec["content_hash"], "run_id": run_id, "processed_at": processed_at,
                        "metadata": rec["metadata"], "n_chars": len(rec["text"]),
                        "input_position": rec["input_position"],
                    }, len(rec["text"]) + 400)
    if dup_rows:
        removed_rows.append(pa.Table.from_pylist(dup_rows, schema=schemas.staged_removed_schema()))
    if removed_rows:
        table = pa.concat_tables([t.cast(schemas.staged_removed_schema()) for t in removed_rows])
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
    return stats
