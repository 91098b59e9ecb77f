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
import pyarrow.parquet as pq

from scrapewash import schemas
from scrapewash.config import Config
from scrapewash.tasks import dedup, minhash, repeats, templates
from scrapewash.tasks.write import INTERMEDIATE_COMPRESSION, INTERMEDIATE_LEVEL, ParquetSink, RunPaths


def template_mask(tkeys: list[int], site_templates: dict[int, int] | None) -> list[bool]:
    """True for each paragraph that is part of its site's template."""
    if not site_templates:
        return [False] * len(tkeys)
    return [k in site_templates for k in tkeys]


def sign_shard(shard_index: int, paths: RunPaths, config: Config, templates_path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    name = f"shard-{shard_index:05d}.parquet"
    src = paths.staging / "prepared" / name
    site_templates = templates.load_templates(templates_path)
    d = config.dedup
    pd = config.paragraph_dedup
    perms = minhash.permutations(d.num_perm, d.seed)
    stats = {"shard": shard_index, "documents": 0, "signed": 0, "template_paragraphs": 0}
    o = config.output
    with ParquetSink(paths.staging / "signed" / name, schemas.signed_schema(d.num_perm), INTERMEDIATE_COMPRESSION,
                     INTERMEDIATE_LEVEL, o.row_group_bytes) as sink:
        if src.exists():
            pf = pq.ParquetFile(src)
            cols = ["order", "doc_id", "site", "paragraphs", "pindex", "tkeys", "twords"]
            near_perms = minhash.permutations(dedup.PARAGRAPH_PERM, d.seed)
            for batch in pf.iter_batches(batch_size=2048, columns=cols):
                for rec in batch.to_pylist():
                    stats["documents"] += 1
                    mask = template_mask(rec["tkeys"], site_templates.get(rec["site"]))
                    stats["template_paragraphs"] += sum(mask)
                    keep = [i for i, m in enumerate(mask) if not m]
                    paras = [rec["paragraphs"][i] for i in keep]
                    text = "\n\n".join(paras)
                    # The text's tokens are its paragraphs' tokens one after the other (no token
                    # spans the blank line): = text_token_hashes(text), tested.
                    th, offsets = minhash.texts_token_hashes(paras)
                    sig = None
                    if d.enabled and len(th) >= d.min_words:
                        sig = minhash.signature(minhash.shingle_hashes(th, d.shingle_words), perms).tolist()
                        stats["signed"] += 1
                    phash, pindex, pnear, pkeys = [], [], [], []
                    if pd.enabled:
                        near = []
                        judged = []
                        for k, i in enumerate(keep):
                            n_words = rec["twords"][i]  # len(paragraph.split())
                            if n_words >= pd.min_words:
                                judged.append(rec["paragraphs"][i])
                                pindex.append(rec["pindex"][i])
                            if pd.near and n_words >= pd.near_min_words:
                                pnear.append(rec["pindex"][i])
                                near.append(k)
                        phash = repeats.paragraph_hashes(judged)
                        if near:  # dedup.paragraph_band_keys of their shingle sets, in one compiled call
                            sel = np.array(near, dtype=np.int64)
                            counts = offsets[sel + 1] - offsets[sel]
                            take = np.concatenate([np.arange(offsets[k], offsets[k + 1]) for k in near])
                            pkeys = minhash.set_band_keys(
                                th[take], np.concatenate(([0], np.cumsum(counts))), pd.near_shingle_words, near_perms,
                                dedup.PARAGRAPH_BANDS, dedup.PARAGRAPH_ROWS).ravel().tolist()
                    sink.add({"order": rec["order"], "doc_id": rec["doc_id"], "text": text, "n_words": len(th),
                              "signature": sig, "phash": phash, "pindex": pindex, "pnear": pnear, "pkeys": pkeys},
                             len(text) + 700 + 8 * len(pkeys))
    stats["seconds"] = time.perf_counter() - t0
    return stats
