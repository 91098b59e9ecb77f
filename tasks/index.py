"""The persistent dedup index: what earlier runs kept, so a new run deduplicates against it
without reading their data.

Under the output root, one partition per committed run (staged, committed, rolled back and
recovered together with the run's datasets, see ``tasks/write.py``)::

    _index/documents/<run_id>/part-NNNNN.parquet   kept documents: doc_id, MinHash signature
    _index/paragraphs/<run_id>/part-NNNNN.parquet  kept paragraphs: exact key, doc_id, paragraph index
    _index/templates/<run_id>/part-00000.parquet   site-template statistics: site, key, pages

* **Documents**: a new document whose signature agrees with a kept document's on at least
  ``dedup.threshold`` of the permutations (the MinHash estimate of their Jaccard similarity; the
  old text is not read) after sharing an LSH band with it is removed as
  ``near_duplicate_document`` with ``duplicate_of`` naming the old ``doc_id``. Earlier runs always
  win. The index is scanned in batches: band keys are recomputed from the stored signatures and
  probed against the new run's sorted keys, so memory stays bounded however large the index grows.
* **Paragraphs**: a new paragraph whose exact key (case, punctuation and spacing folded) is a kept
  paragraph's of an earlier run is removed as ``duplicate_paragraph``, pointing at it.
* **Templates**: the pages per (site, template key) counted by earlier runs are added to the new
  run's counts, so a site's template is recognised even when each run brings one page of the site.

Runs superseded by a ``reprocess`` run are left out (``exclude``). The MinHash settings the index
was built with are stored in each file; a run with different settings stops with a clear error
instead of comparing signatures that cannot match.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scrapewash.config import DedupConfig
from scrapewash.tasks import minhash

DOCUMENTS = "_index/documents"
PARAGRAPHS = "_index/paragraphs"
TEMPLATES = "_index/templates"
_PARAMS_KEY = b"scrapewash.index_params"
#: Version 2: documents of scripts written without spaces (Chinese, Japanese, Thai, ...) are signed
#: with one token per character (:func:`scrapewash.tasks.minhash.tokens`); version 1 signed a ``\\w+``
#: run of them (a whole clause) as one token. Every other document's signature is the same in both,
#: so a version 1 index is still read: its Chinese or Japanese documents are just not found as near
#: copies of new ones (counted as ``index_documents_v1`` and logged).
INDEX_VERSION = 2
_READABLE_VERSIONS = (1, 2)


class IndexMismatch(ValueError):
    """The dedup index cannot be used with this run's settings."""


def documents_schema(num_perm: int) -> pa.Schema:
    return pa.schema([
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("signature", pa.list_(pa.uint32(), num_perm), nullable=False),
    ])


PARAGRAPHS_SCHEMA = pa.schema([
    pa.field("key", pa.uint64(), nullable=False),
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("paragraph_index", pa.int32(), nullable=False),
])

TEMPLATE_STATS_SCHEMA = pa.schema([
    pa.field("site", pa.string(), nullable=False),
    pa.field("key", pa.uint64(), nullable=False),
    pa.field("n_docs", pa.int32(), nullable=False),
    pa.field("short", pa.bool_(), nullable=False),
])


def signature_params(cfg: DedupConfig) -> dict[str, Any]:
    """The settings that make two signatures comparable."""
    return {"version": INDEX_VERSION, "num_perm": cfg.num_perm, "seed": cfg.seed,
            "shingle_words": cfg.shingle_words}


def with_params(schema: pa.Schema, cfg: DedupConfig) -> pa.Schema:
    return schema.with_metadata({_PARAMS_KEY: json.dumps(signature_params(cfg)).encode()})


def run_parts(root: Path, kind: str, exclude: Iterable[str] = ()) -> list[Path]:
    """The index files of ``kind`` of every committed run, in run order (run ids sort by start time)."""
    base = Path(root) / kind
    if not base.is_dir():
        return []
    committed = {p.stem for p in (Path(root) / "_runs").glob("*.json")}
    skip = set(exclude)
    return [f for d in sorted(base.iterdir()) if d.is_dir() and d.name in committed and d.name not in skip
            for f in sorted(d.glob("*.parquet"))]


def _check_params(f: Path, cfg: DedupConfig) -> int:
    """The index version of ``f``, if its signatures can be compared with this run's."""
    md = pq.read_schema(f).metadata or {}
    raw = md.get(_PARAMS_KEY)
    stored = json.loads(raw) if raw else None
    want = signature_params(cfg)
    if isinstance(stored, dict) and stored.get("version") in _READABLE_VERSIONS and \
            {**stored, "version": INDEX_VERSION} == want:
        return int(stored["version"])
    raise IndexMismatch(
        f"the dedup index {f} was built with MinHash settings {stored}, this run uses "
        f"{want}: signatures would not be comparable. Use the same [dedup] num_perm, "
        "seed and shingle_words, or a new output root.")


def _batches(files: list[Path], columns: list[str], batch_rows: int) -> Iterator[tuple[Path, pa.RecordBatch]]:
    for f in files:
        for b in pq.ParquetFile(f).iter_batches(batch_size=batch_rows, columns=columns):
            yield f, b


class _Prefilter:
    """A bitmap over the top bits of a set of 64-bit keys: most keys not in the set are ruled out
    by one lookup each, so the exact search runs on a few percent of the index's keys."""

    BITS = 24

    def __init__(self, keys: np.ndarray):
        self.shift = np.uint64(64 - self.BITS)
        self.bitmap = np.zeros(1 << self.BITS, dtype=bool)
        self.bitmap[keys >> self.shift] = True

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        return np.flatnonzero(self.bitmap[keys >> self.shift])


def lookup_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 key per (document, band) for index lookups: a cheap mix of the band's values.

    Only ever compared with keys made by this function (index side and new side alike), so it
    need not equal :func:`minhash.band_keys`; equal bands give equal keys, and the rare collision of
    unequal ones is removed by the signature check that follows.
    """
    n = sigs.shape[0]
    if rows % 2:
        return minhash.band_keys(sigs, bands, rows)
    v = np.ascontiguousarray(sigs[:, : bands * rows], dtype=np.uint32).view(np.uint64).reshape(n, bands, rows // 2)
    with np.errstate(over="ignore"):
        key = v[:, :, 0] * np.uint64(0x9E3779B97F4A7C15)
        for r in range(1, rows // 2):
            key ^= v[:, :, r] * np.uint64(0xC2B2AE3D27D4EB4F)
            key ^= key >> np.uint64(31)
        key ^= np.arange(bands, dtype=np.uint64) * np.uint64(0x165667B19E3779F9)
        key *= np.uint64(0xFF51AFD7ED558CCD)
        key ^= key >> np.uint64(33)
    return key


def match_documents(root: Path, sigs: np.ndarray, cfg: DedupConfig, exclude: Iterable[str] = (),
                    batch_rows: int = 65536) -> tuple[dict[int, tuple[str, str, float]], dict[str, Any]]:
    """For each new signature (row of ``sigs``) that nearly duplicates a document an earlier run kept:
    row -> (old doc_id, old run_id, estimated Jaccard). The earliest run's best match wins."""
    t0 = time.perf_counter()
    files = run_parts(root, DOCUMENTS, exclude)
    stats: dict[str, Any] = {"index_documents": 0, "index_documents_v1": 0, "index_candidates": 0,
                             "index_matches": 0}
    found: dict[int, tuple[str, str, float]] = {}
    if not files or len(sigs) == 0:
        stats["index_seconds"] = time.perf_counter() - t0
        return found, stats
    older = {f for f in files if _check_params(f, cfg) < INDEX_VERSION}
    keys = lookup_keys(sigs, cfg.bands, cfg.rows).ravel()
    owner = np.repeat(np.arange(len(sigs)), cfg.bands)
    srt = np.argsort(keys, kind="stable")
    keys, owner = keys[srt], owner[srt]
    prefilter = _Prefilter(keys)
    for f, batch in _batches(files, ["doc_id", "signature"], batch_rows):
        m = batch.num_rows
        stats["index_documents"] += m
        if f in older:
            stats["index_documents_v1"] += m
        old = pc.list_flatten(batch.column("signature")).to_numpy(zero_copy_only=False)
        old = old.reshape(m, cfg.num_perm).astype(np.uint32, copy=False)
        okeys = lookup_keys(old, cfg.bands, cfg.rows).ravel()
        hit = prefilter.candidates(okeys)
        lo = np.minimum(np.searchsorted(keys, okeys[hit]), len(keys) - 1)
        hit = hit[keys[lo] == okeys[hit]]
        if not len(hit):
            continue
        lo = np.searchsorted(keys, okeys[hit], side="left")
        hi = np.searchsorted(keys, okeys[hit], side="right")
        counts = hi - lo
        old_rows = np.repeat(hit // cfg.bands, counts)
        new_rows = owner[np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])]
        pairs = np.unique(np.stack([new_rows, old_rows], axis=1), axis=0)
        stats["index_candidates"] += len(pairs)
        est = minhash.estimate_jaccard(sigs[pairs[:, 0]], old[pairs[:, 1]])
        ok = est >= cfg.threshold
        if not ok.any():
            continue
        ids = batch.column("doc_id")
        run_id = f.parent.name
        for (i, j), sim in zip(pairs[ok].tolist(), est[ok].tolist(), strict=True):
            prev = found.get(i)
            if prev is None or (prev[1] == run_id and sim > prev[2]):
                found[i] = (ids[j].as_py(), run_id, float(sim))
    stats["index_matches"] = len(found)
    stats["index_seconds"] = time.perf_counter() - t0
    return found, stats


def match_paragraphs(root: Path, keys: np.ndarray, exclude: Iterable[str] = (),
                     batch_rows: int = 1 << 20) -> dict[int, tuple[str, int]]:
    """For each new exact paragraph key (entries of ``keys``) that an earlier run kept:
    entry -> (old doc_id, old paragraph index), the earliest kept occurrence."""
    found: dict[int, tuple[str, int]] = {}
    files = run_parts(root, PARAGRAPHS, exclude)
    if not files or len(keys) == 0:
        return found
    keys = keys.astype(np.uint64, copy=False)
    srt = np.argsort(keys, kind="stable")
    skeys = keys[srt]
    prefilter = _Prefilter(skeys)
    for _f, batch in _batches(files, ["key", "doc_id", "paragraph_index"], batch_rows):
        old = batch.column("key").to_numpy(zero_copy_only=False)
        hit = prefilter.candidates(old)
        lo = np.minimum(np.searchsorted(skeys, old[hit]), len(skeys) - 1)
        keep = skeys[lo] == old[hit]
        hit, lo = hit[keep], lo[keep]
        if not len(hit):
            continue
        hi = np.searchsorted(skeys, old[hit], side="right")
        doc_ids, pidx = batch.column("doc_id"), batch.column("paragraph_index")
        for h, a, b in zip(hit.tolist(), lo.tolist(), hi.tolist(), strict=True):
            for e in srt[a:b].tolist():
                if e not in found:
                    found[e] = (doc_ids[h].as_py(), pidx[h].as_py())
    return found


def template_counts(root: Path, sites: Iterable[str], exclude: Iterable[str] = ()) -> pa.Table:
    """Pages per (site, key) counted by earlier runs, for the given sites: columns site, key, n_docs,
    short (summed over runs)."""
    files = run_parts(root, TEMPLATES, exclude)
    wanted = sorted(set(sites))
    if not files or not wanted:
        return TEMPLATE_STATS_SCHEMA.empty_table()
    parts = []
    value_set = pa.array(wanted, type=pa.string())
    for f in files:
        t = pq.read_table(f, schema=TEMPLATE_STATS_SCHEMA)
        t = t.filter(pc.is_in(t["site"], value_set=value_set))
        if t.num_rows:
            parts.append(t)
    if not parts:
        return TEMPLATE_STATS_SCHEMA.empty_table()
    t = pa.concat_tables(parts)
    g = t.group_by(["site", "key"]).aggregate([("n_docs", "sum"), ("short", "max")])
    return pa.table({"site": g["site"], "key": g["key"], "n_docs": pc.cast(g["n_docs_sum"], pa.int32()),
                     "short": g["short_max"]}, schema=TEMPLATE_STATS_SCHEMA)


def size_report(root: Path) -> dict[str, Any]:
    """Bytes on disk of each index kind and entries, for the manifest and the benchmark."""
    out: dict[str, Any] = {}
    for kind in (DOCUMENTS, PARAGRAPHS, TEMPLATES):
        files = run_parts(root, kind)
        out[kind.split("/")[1]] = {"bytes": sum(f.stat().st_size for f in files),
                                   "rows": sum(pq.ParquetFile(f).metadata.num_rows for f in files)}
    return out
