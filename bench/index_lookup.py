"""The persistent dedup index at scale: bytes per kept document and lookup time.

Builds an index of N kept documents (``_index/documents`` and ``_index/paragraphs``, in the format
the pipeline writes, split into run partitions as scheduled runs would leave them), then times what
a new run does against it: matching a batch of new documents (some of them near copies of indexed
ones) and their paragraphs. Side by side, in the same run: datasketch's ``MinHashLSH`` holding the
same signatures in memory (insert time, query time, memory), on a subset when N is large.

    python bench/index_lookup.py                    # 1,000,000 documents (about 3 minutes, 2 GB disk)
    python bench/index_lookup.py --docs 100000 --baseline-docs 100000

Signatures are random (their values do not change the cost); near copies share 85 % of the values
of an indexed document. Prints a table and writes JSON (``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scrapewash.config import DedupConfig  # noqa: E402
from scrapewash.tasks import index  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(root: Path, n_docs: int, runs: int, paras_per_doc: int, cfg: DedupConfig, rng: np.random.Generator):
    """Write n_docs documents' index rows in `runs` run partitions; return a sample of signatures and keys."""
    (root / "_runs").mkdir(parents=True)
    per_run = -(-n_docs // runs)
    sample_sigs, sample_ids, sample_keys = [], [], []
    dschema = index.with_params(index.documents_schema(cfg.num_perm), cfg)
    doc = 0
    for r in range(runs):
        run_id = f"2026010{r // 10}T{r % 10:02d}0000Z-bench{r:03d}"
        m = min(per_run, n_docs - doc)
        if m <= 0:
            break
        sigs = rng.integers(0, 2**32, size=(m, cfg.num_perm), dtype=np.uint32)
        ids = pa.array([f"doc-{doc + i:08d}" for i in range(m)], pa.string())
        flat = pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel(), pa.uint32()), cfg.num_perm)
        d = root / index.DOCUMENTS / run_id
        d.mkdir(parents=True)
        pq.write_table(pa.table({"doc_id": ids, "signature": flat.cast(pa.list_(pa.uint32(), cfg.num_perm))},
                                schema=dschema), d / "part-00000.parquet", compression="zstd")
        keys = rng.integers(0, 2**63, size=m * paras_per_doc, dtype=np.uint64)
        p = root / index.PARAGRAPHS / run_id
        p.mkdir(parents=True)
        pq.write_table(pa.table({"key": pa.array(keys, pa.uint64()),
                                 "doc_id": pa.array(np.repeat(ids.to_numpy(zero_copy_only=False), paras_per_doc)),
                                 "paragraph_index": pa.array(np.tile(np.arange(paras_per_doc, dtype=np.int32), m))},
                                schema=index.PARAGRAPHS_SCHEMA), p / "part-00000.parquet", compression="zstd")
        (root / "_runs" / f"{run_id}.json").write_text(json.dumps({"run_id": run_id, "input_files": []}))
        take = rng.choice(m, size=min(m, 2000), replace=False)
        sample_sigs.append(sigs[take])
        sample_ids.extend(f"doc-{doc + i:08d}" for i in take.tolist())
        sample_keys.append(keys[rng.choice(len(keys), size=min(len(keys), 2000), replace=False)])
        doc += m
    return np.concatenate(sample_sigs), sample_ids, np.concatenate(sample_keys)


def near_copies(sigs: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    out = sigs.copy()
    change = rng.random(out.shape) > share
    out[change] = rng.integers(0, 2**32, size=int(change.sum()), dtype=np.uint32)
    return out


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*.parquet"))


def baseline_datasketch(n: int, queries: np.ndarray, cfg: DedupConfig, rng: np.random.Generator) -> dict:
    import tracemalloc

    from datasketch import LeanMinHash, MinHashLSH

    tracemalloc.start()
    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm, params=(cfg.bands, cfg.rows))
    sigs = rng.integers(0, 2**32, size=(n, cfg.num_perm), dtype=np.uint32)
    t0 = time.perf_counter()
    for i in range(n):
        lsh.insert(f"doc-{i:08d}", LeanMinHash(seed=cfg.seed, hashvalues=sigs[i], scheme="affine32"), check_duplication=False)
    insert_s = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    q = np.concatenate([near_copies(sigs[: len(queries) // 10], 0.85, rng), queries[: len(queries) - len(queries) // 10]])
    t0 = time.perf_counter()
    found = 0
    for row in q:
        hits = lsh.query(LeanMinHash(seed=cfg.seed, hashvalues=row, scheme="affine32"))
        found += bool(hits)
    query_s = time.perf_counter() - t0
    return {"documents": n, "insert_s": round(insert_s, 2), "query_s": round(query_s, 3),
            "queries": len(q), "found": found, "memory_bytes_per_doc": round(peak / n)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20, help="run partitions the index is split into")
    ap.add_argument("--paragraphs", type=int, default=12, help="indexed paragraphs per document")
    ap.add_argument("--new", type=int, default=10_000, help="documents in the new run")
    ap.add_argument("--baseline-docs", type=int, default=100_000, help="documents in the datasketch baseline (0: none)")
    ap.add_argument("--dir", help="where to build the index (default: a temporary folder, removed after)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    cfg = DedupConfig()
    rng = np.random.default_rng(1)
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="scrapewash-index-"))
    try:
        t0 = time.perf_counter()
        sample, sample_ids, sample_keys = build(root, args.docs, args.runs, args.paragraphs, cfg, rng)
        build_s = time.perf_counter() - t0
        n_copies = args.new // 10
        pick = rng.choice(len(sample), size=n_copies, replace=False)
        new = np.concatenate([near_copies(sample[pick], 0.85, rng),
                              rng.integers(0, 2**32, size=(args.new - n_copies, cfg.num_perm), dtype=np.uint32)])
        rss0 = peak_rss_mb()
        t0 = time.perf_counter()
        found, stats = index.match_documents(root, new, cfg)
        doc_s = time.perf_counter() - t0
        right = sum(1 for i, j in enumerate(pick.tolist()) if found.get(i, ("",))[0] == sample_ids[j])
        new_keys = np.concatenate([sample_keys[: args.new], rng.integers(0, 2**63, size=args.new * args.paragraphs,
                                                                          dtype=np.uint64)])
        t0 = time.perf_counter()
        pfound = index.match_paragraphs(root, new_keys)
        para_s = time.perf_counter() - t0
        doc_bytes, para_bytes = du(root / index.DOCUMENTS), du(root / index.PARAGRAPHS)
        res = {
            "documents_indexed": args.docs, "run_partitions": args.runs, "paragraphs_indexed": args.docs * args.paragraphs,
            "build_s": round(build_s, 1),
            "documents_index_bytes_per_doc": round(doc_bytes / args.docs, 1),
            "paragraphs_index_bytes_per_doc": round(para_bytes / args.docs, 1),
            "new_documents": args.new, "near_copies": n_copies, "copies_found_pointing_at_the_right_doc": right,
            "false_matches": len(found) - right, "document_lookup_s": round(doc_s, 2),
            "candidates": stats["index_candidates"],
            "new_paragraph_keys": len(new_keys), "paragraph_hits": len(pfound), "paragraph_lookup_s": round(para_s, 2),
            "peak_rss_mb_before_lookup": round(rss0), "peak_rss_mb": round(peak_rss_mb()),
        }
        if args.baseline_docs:
            res["datasketch_MinHashLSH"] = baseline_datasketch(args.baseline_docs, new[:args.new], cfg, rng)
    finally:
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    sys.exit(main())
