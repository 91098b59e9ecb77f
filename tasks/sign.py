"""Per shard, after the site templates are known: drop template paragraphs, then sign what is left.

Reads ``prepared/shard-NNNNN.parquet`` and the corpus-wide template table and
writes ``signed/shard-NNNNN.parquet``: per document the text without its site
template, its word count, its MinHash signature (for near-duplicate documents)
and, for duplicate paragraphs across documents, the exact keys of its
paragraphs long enough to judge and the LSH band keys of those long enough to
judge as near copies. Small counts are returned.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scrapewash import schemas
from scrapewash.config import Config
from scrapewash.tasks import dedup, minhash, templates
from scrapewash.tasks.write import (
    INTERMEDIATE_COMPRESSION,
    INTERMEDIATE_LEVEL,
    ParquetSink,
    RunPaths,
    each_shard,
)

_NO_KEYS = np.empty(0, dtype=np.uint64)


def template_mask(tkeys: list[int], site_templates: dict[int, int] | None, embedded_run: int = 0) -> list[bool]:
    """True for each paragraph that is part of its site's template.

    With ``embedded_run``, a run of at most that many template paragraphs with a kept
    non-template paragraph on both sides is the page's own text that recurs on the site ("Pros",
    "Note:", a line of code), not template, and stays."""
    if not site_templates:
        return [False] * len(tkeys)
    hits = [k in site_templates for k in tkeys]
    if embedded_run > 0:
        n = len(hits)
        i = 0
        while i < n:
            if not hits[i]:
                i += 1
                continue
            j = i
            while j < n and hits[j]:
                j += 1
            if i > 0 and j < n and j - i <= embedded_run:
                hits[i:j] = [False] * (j - i)
            i = j
    return hits


def sign_shard(shard_index: int, paths: RunPaths, config: Config, templates_path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    name = f"shard-{shard_index:05d}.parquet"
    src = paths.staging / "prepared" / name
    site_templates = templates.load_templates(templates_path)
    d = config.dedup
    stats = {"shard": shard_index, "documents": 0, "signed": 0, "template_paragraphs": 0}
    o = config.output
    schema = schemas.signed_schema(d.num_perm)
    # Texts, signatures and band keys are nearly all distinct: no dictionary pages to try.
    with ParquetSink(paths.staging / "signed" / name, schema, INTERMEDIATE_COMPRESSION,
                     INTERMEDIATE_LEVEL, o.row_group_bytes, use_dictionary=False) as sink:
        if src.exists():
            pf = pq.ParquetFile(src)
            cols = ["order", "doc_id", "site", "paragraphs", "pindex", "tkeys", "twords", "phash"]
            for batch in pf.iter_batches(batch_size=2048, columns=cols):
                sink.write_table(sign_batch({col: batch.column(col).to_pylist() for col in cols},
                                            site_templates, config, stats))
    stats["seconds"] = time.perf_counter() - t0
    return stats


def sign_shards(shard_indexes: list[int], paths: RunPaths, config: Config,
                templates_path: Path) -> list[dict[str, Any]]:
    """:func:`sign_shard` of each shard in turn; an error names its shard (:func:`each_shard`)."""
    return each_shard(sign_shard, shard_indexes, "signing", "shard-{:05d}.parquet", paths, config, templates_path)


def sign_batch(c: dict[str, list[Any]], site_templates: dict[str, dict[int, int]], config: Config,
               stats: dict[str, Any]) -> pa.Table:
    """The signed rows of a batch of prepared documents (``c``: their columns as lists), computed
    for the whole batch at once: one pass for the token hashes of every kept paragraph, then the
    documents' signatures, the band keys of the paragraphs judged as near copies, and the exact-key
    hashes of those long enough to judge (made by the cleaning: ``phash``). Each row equals its
    document's own definitions (tested)."""
    d, pd = config.dedup, config.paragraph_dedup
    n = len(c["order"])
    texts: list[str] = []
    flat: list[str] = []  # the kept paragraphs of every document, one after the other
    doc_par = [0]
    judged: list[int] = []  # the key hashes of those long enough to judge as exact copies ...
    doc_judged = [0]
    near: list[int] = []  # ... and the positions in ``flat`` of those judged as near copies
    doc_near = [0]
    pindex, pnear = [], []
    for r in range(n):
        paragraphs, pidx, twords, phash = c["paragraphs"][r], c["pindex"][r], c["twords"][r], c["phash"][r]
        mask = template_mask(c["tkeys"][r], site_templates.get(c["site"][r]), config.templates.embedded_run)
        n_template = sum(mask)
        stats["template_paragraphs"] += n_template
        keep = [i for i, m in enumerate(mask) if not m] if n_template else range(len(mask))
        paras = [paragraphs[i] for i in keep]
        texts.append("\n\n".join(paras))
        jindex, nindex = [], []
        if pd.enabled:
            base = len(flat)
            for k, i in enumerate(keep):
                w = twords[i]  # minhash.word_count(paragraph)
                if w >= pd.min_words:
                    judged.append(phash[i])  # repeats.paragraph_hash(paragraph), made by the cleaning
                    jindex.append(pidx[i])
                if pd.near and w >= pd.near_min_words:
                    nindex.append(pidx[i])
                    near.append(base + k)
        flat.extend(paras)
        doc_par.append(len(flat))
        doc_judged.append(len(judged))
        doc_near.append(len(near))
        pindex.append(jindex)
        pnear.append(nindex)
    # A text's tokens are its paragraphs' tokens one after the other (no token spans the blank
    # line): = text_token_hashes(text), tested.
    th, offsets = minhash.texts_token_hashes(flat)
    doc_tokens = offsets[np.array(doc_par, dtype=np.int64)]
    n_words = np.diff(doc_tokens)  # tokens: how many shingles the signature sees
    signed = (n_words >= d.min_words) if d.enabled else np.zeros(n, dtype=bool)
    sigs = np.zeros((n, d.num_perm), dtype=np.uint32)
    if signed.any():
        sigs[signed] = minhash.set_signatures(th, doc_tokens, d.shingle_words,
                                              minhash.permutations(d.num_perm, d.seed))[signed]
    keys = _NO_KEYS
    if near:  # dedup.paragraph_band_keys of their shingle sets, in one compiled call
        keys = minhash.set_band_keys(*minhash.select_lists(th, offsets, np.array(near)), pd.near_shingle_words,
                                     minhash.permutations(dedup.PARAGRAPH_PERM, d.seed), dedup.PARAGRAPH_BANDS,
                                     dedup.PARAGRAPH_ROWS).ravel()
    stats["documents"] += n
    stats["signed"] += int(signed.sum())
    key_offsets = (np.array(doc_near, dtype=np.int64) * dedup.PARAGRAPH_BANDS).astype(np.int32)
    return pa.table({
        "order": pa.array(c["order"], pa.int64()),
        "doc_id": pa.array(c["doc_id"], pa.string()),
        "text": pa.array(texts, pa.string()),
        "n_words": pa.array(n_words.astype(np.int32)),
        "signature": pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel()), d.num_perm,
                                                       mask=pa.array(np.logical_not(signed))),
        "phash": pa.array([judged[doc_judged[r]:doc_judged[r + 1]] for r in range(n)], pa.list_(pa.uint64())),
        "pindex": pa.array(pindex, pa.list_(pa.int32())),
        "pnear": pa.array(pnear, pa.list_(pa.int32())),
        "pkeys": pa.ListArray.from_arrays(pa.array(key_offsets), pa.array(keys)),
    }, schema=schemas.signed_schema(d.num_perm))
