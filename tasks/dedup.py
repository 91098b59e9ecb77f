"""Corpus-wide decisions: near-duplicate documents (MinHash LSH, verified, clustered) and
duplicate paragraphs across documents.

Near-duplicate documents:

1. Load the signatures every shard signed, after its site templates were removed
   (``order``, ``doc_id``, ``n_words``,
   ``signature``: 4 bytes x ``num_perm`` per document, the only per-document
   state held in memory, plus 8 bytes x ``bands`` for the band keys, and while
   the keys are grouped a table of 24 to 48 bytes per document).
2. Band keys (``bands`` x ``rows``) grouped in bulk, one compiled pass per band
   over the documents with an open-addressing table (no sort, no per-item
   inserts into Python structures), give the candidate pairs. With the
   defaults (128 permutations, 32 bands of 4 rows) a pair at Jaccard 0.7
   becomes a candidate with probability 0.9998, at 0.5 with 0.87.
3. Candidates are verified: ``verify="exact"`` (default) computes the exact
   Jaccard similarity of the two documents' shingle sets for every pair whose
   MinHash estimate is within 0.15 of the threshold (more than three standard
   deviations of the estimate at 128 permutations); ``verify="estimate"`` uses
   the estimate alone.
4. Verified pairs are joined with union-find. In each cluster the **keep rule**
   picks the survivor: ``keep="first"`` (default) keeps the document that comes
   first in input order (inputs as given, folders in sorted path order, records
   in file order); ``keep="longest"`` keeps the one with most words, ties going
   to input order. The decision never depends on sharding or scheduling.
5. The decisions (one row per document in a cluster) go to a small Parquet
   file that the finalize stage applies shard by shard.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scrapewash.config import DedupConfig, ParagraphDedupConfig
from scrapewash.tasks import index, minhash
from scrapewash.tasks.write import write_staged_table

ESTIMATE_MARGIN = 0.15
T = TypeVar("T")
# The corpus-wide stages run alone, after the shard tasks: they read the shards a few at a time on
# threads (reading Parquet and the compiled passes let go of the interpreter lock), so that the
# cores the shard tasks used are not left idle. The results are put together in the files' order.
READ_THREADS = max(1, min(4, os.cpu_count() or 1))


def per_file(fn: Callable[[Any], T], files: list[Any]) -> list[T]:
    """``[fn(f) for f in files]``, up to :data:`READ_THREADS` files at a time."""
    if READ_THREADS < 2 or len(files) < 2:
        return [fn(f) for f in files]
    with ThreadPoolExecutor(min(READ_THREADS, len(files)), thread_name_prefix="scrapewash-read") as ex:
        return list(ex.map(fn, files))

DECISIONS_SCHEMA = pa.schema(
    [
        pa.field("order", pa.int64(), nullable=False),
        pa.field("keep", pa.bool_(), nullable=False),
        pa.field("duplicate_of", pa.string()),  # doc_id of the survivor (removed rows)
        pa.field("duplicate_of_order", pa.int64()),
        pa.field("similarity", pa.float32()),  # to the survivor
        pa.field("duplicates", pa.int32(), nullable=False),  # copies folded into a survivor
        pa.field("cluster", pa.int64(), nullable=False),  # order of the survivor (-1: an earlier run's)
    ]
)


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def _load_signatures(files: list[Path], num_perm: int) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    def read(f: Path) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray] | None:
        t = pq.read_table(f, columns=["order", "doc_id", "n_words", "signature"])
        t = t.filter(pc.is_valid(t["signature"]))
        if t.num_rows == 0:
            return None
        return (t["order"].to_numpy(), t["doc_id"].to_pylist(), t["n_words"].to_numpy(),
                pc.list_flatten(t["signature"]).to_numpy().reshape(-1, num_perm))

    parts = [r for r in per_file(read, files) if r is not None]
    if not parts:
        e = np.empty(0, dtype=np.int64)
        return e, [], e, np.empty((0, num_perm), dtype=np.uint32)
    order = np.concatenate([r[0] for r in parts])
    ids = [i for r in parts for i in r[1]]
    idx = np.argsort(order, kind="stable")  # rows in input order
    return (order[idx], [ids[i] for i in idx], np.concatenate([r[2] for r in parts])[idx],
            np.concatenate([r[3] for r in parts])[idx].astype(np.uint32, copy=False))


def _shingle_sets(files: list[Path], wanted: set[int],
                  shingle_words: int) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """The shingle sets of the documents ``wanted`` (by order), as values and offsets (set ``k`` is
    ``values[offsets[k]:offsets[k + 1]]``, sorted and distinct), and each order's ``k``."""
    slot: dict[int, int] = {}
    parts: list[np.ndarray] = []
    offs: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    base = 0
    if wanted:
        values = pa.array(sorted(wanted), type=pa.int64())

        def read(f: Path) -> tuple[list[int], np.ndarray, np.ndarray] | None:
            t = pq.read_table(f, columns=["order", "text"])
            t = t.filter(pc.is_in(t["order"], value_set=values))
            if not t.num_rows:
                return None
            # shingle_set(tokens(text), shingle_words) of each, in compiled passes
            sets, offsets = minhash.text_shingle_sets(t["text"].to_pylist(), shingle_words)
            return t["order"].to_pylist(), sets, offsets

        for got in per_file(read, files):
            if got is None:
                continue
            orders, sets, offsets = got
            for order in orders:
                slot[order] = len(slot)
            parts.append(sets)
            offs.append(offsets[1:] + base)
            base += len(sets)
    vals = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
    return vals, np.concatenate(offs), slot


def _set_numbers(slot: dict[int, int], orders: np.ndarray) -> np.ndarray:
    """The number of each document's set in :func:`_shingle_sets`' output, for an array of orders
    (same shape)."""
    return np.fromiter((slot[o] for o in orders.ravel().tolist()), dtype=np.int64,
                       count=orders.size).reshape(orders.shape)


def find_duplicates(prepared: list[Path], cfg: DedupConfig, decisions_path: Path,
                    index_root: Path | None = None, exclude: list[str] | None = None) -> dict[str, Any]:
    """Decide which staged documents are near-duplicates; write the decisions; return counts.

    With ``index_root``, documents that nearly duplicate one an earlier run kept go first
    (``tasks/index.py``); the rest are compared with each other.
    """
    t0 = time.perf_counter()
    order, ids, words, sigs = _load_signatures(prepared, cfg.num_perm)
    n = len(order)
    stats: dict[str, Any] = {"documents_compared": n, "candidate_pairs": 0, "verified_pairs": 0,
                             "clusters": 0, "duplicates_removed": 0, "signature_bytes": int(sigs.nbytes),
                             "duplicates_of_earlier_runs": 0}
    rows: list[dict[str, Any]] = []
    earlier: dict[int, tuple[str, str, float]] = {}
    if n and cfg.enabled and index_root is not None:
        earlier, istats = index.match_documents(index_root, sigs, cfg, exclude or ())
        stats.update(istats)
        for i, (old_id, _old_run, sim) in sorted(earlier.items()):
            rows.append({"order": int(order[i]), "keep": False, "duplicate_of": old_id, "duplicate_of_order": None,
                         "similarity": round(sim, 4), "duplicates": 0, "cluster": -1})
        stats["duplicates_of_earlier_runs"] = len(earlier)
        stats["duplicates_removed"] = len(earlier)
    if n - len(earlier) >= 2 and cfg.enabled:
        keys = minhash.band_keys(sigs, cfg.bands, cfg.rows)
        stats["band_key_bytes"] = int(keys.nbytes)
        pairs = minhash.candidate_pairs(keys)
        del keys
        if earlier and len(pairs):
            gone = np.fromiter(earlier, dtype=np.int64)
            pairs = pairs[~(np.isin(pairs[:, 0], gone) | np.isin(pairs[:, 1], gone))]
        stats["candidate_pairs"] = int(len(pairs))
        if len(pairs):
            est = minhash.estimate_jaccard(sigs[pairs[:, 0]], sigs[pairs[:, 1]])
            if cfg.verify == "exact":
                keep_mask = est >= cfg.threshold - ESTIMATE_MARGIN
                pairs, est = pairs[keep_mask], est[keep_mask]
                vals, offs, slot = _shingle_sets(prepared, {int(order[i]) for i in np.unique(pairs)},
                                                 cfg.shingle_words)
                at = _set_numbers(slot, order[pairs])
                sims = minhash.jaccard_pairs(vals, offs, at[:, 0], at[:, 1])
            else:
                sims = est
            ok = sims >= cfg.threshold
            verified = pairs[ok]
            stats["verified_pairs"] = int(len(verified))
            uf = _UnionFind(n)
            for a, b in verified.tolist():
                uf.union(a, b)
            members: dict[int, list[int]] = {}
            for i in np.unique(verified).tolist():
                members.setdefault(uf.find(i), []).append(i)
            removed_of: list[tuple[int, int]] = []  # (member, representative), a member to each removal
            for group in members.values():
                group.sort()
                if cfg.keep == "longest":
                    rep = min(group, key=lambda i: (-int(words[i]), i))
                else:
                    rep = group[0]
                stats["clusters"] += 1
                rows.append({"order": int(order[rep]), "keep": True, "duplicate_of": None,
                             "duplicate_of_order": None, "similarity": None,
                             "duplicates": len(group) - 1, "cluster": int(order[rep])})
                removed_of.extend((i, rep) for i in group if i != rep)
            if removed_of:
                mr = np.array(removed_of, dtype=np.int64)
                if cfg.verify == "exact":  # each removed document's similarity to the one kept
                    at = _set_numbers(slot, order[mr])
                    member_sims = minhash.jaccard_pairs(vals, offs, at[:, 0], at[:, 1])
                else:
                    member_sims = minhash.estimate_jaccard(sigs[mr[:, 0]], sigs[mr[:, 1]])
                for (i, rep), sim in zip(removed_of, member_sims.tolist(), strict=True):
                    rows.append({"order": int(order[i]), "keep": False, "duplicate_of": ids[rep],
                                 "duplicate_of_order": int(order[rep]), "similarity": round(sim, 4),
                                 "duplicates": 0, "cluster": int(order[rep])})
                    stats["duplicates_removed"] += 1
    rows.sort(key=lambda r: r["order"])
    write_staged_table(pa.Table.from_pylist(rows, schema=DECISIONS_SCHEMA), decisions_path)
    stats["seconds"] = time.perf_counter() - t0
    return stats


PARAGRAPH_PERM = 64
PARAGRAPH_BANDS = 16
PARAGRAPH_ROWS = 4


def paragraph_shingles(text: str, shingle_words: int) -> np.ndarray:
    """Distinct word-shingle hashes of one paragraph (the unit near-copies of paragraphs are judged on)."""
    return minhash.shingle_set(minhash.tokens(text), shingle_words)


def paragraph_band_keys(sets: list[np.ndarray], seed: int) -> np.ndarray:
    """LSH band keys ``[len(sets), PARAGRAPH_BANDS]`` of paragraphs' shingle sets.

    64 permutations in 16 bands of 4 rows: a pair at Jaccard 0.7 shares a band
    with probability 0.99, at 0.5 with 0.64, at 0.3 with 0.12.
    """
    sigs = minhash.signatures(sets, minhash.permutations(PARAGRAPH_PERM, seed))
    return minhash.band_keys(sigs, PARAGRAPH_BANDS, PARAGRAPH_ROWS)


PARAGRAPH_DECISIONS_SCHEMA = pa.schema(
    [
        pa.field("order", pa.int64(), nullable=False),
        pa.field("paragraph_index", pa.int32(), nullable=False),
        pa.field("duplicate_of", pa.string(), nullable=False),
        pa.field("duplicate_of_order", pa.int64(), nullable=False),
        pa.field("duplicate_of_paragraph", pa.int32(), nullable=False),
        pa.field("similarity", pa.float32(), nullable=False),  # 1.0 for exact copies
    ]
)


def _removed_documents(decisions_path: Path) -> set[int]:
    if not decisions_path.exists():
        return set()
    d = pq.read_table(decisions_path, columns=["order", "keep"])
    return {o for o, k in zip(d["order"].to_pylist(), d["keep"].to_pylist(), strict=True) if not k}


def _flattened(t: pa.Table, col: str) -> tuple[np.ndarray, np.ndarray]:
    """The entries of the list column ``col`` one after the other, with each entry's document
    ``order`` (int64)."""
    lens = pc.list_value_length(t[col]).to_numpy(zero_copy_only=False)
    return (np.repeat(t["order"].to_numpy(), lens).astype(np.int64, copy=False),
            pc.list_flatten(t[col]).to_numpy(zero_copy_only=False))


def _paragraph_columns(signed: list[Path], index_col: str, value_col: str,
                       ids: dict[int, str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-paragraph lists ``index_col`` (paragraph indexes) and ``value_col`` (their keys) of every
    signed shard, flattened, with each paragraph's document ``order``. Fills ``ids`` (order → doc_id)
    when given."""
    cols = ["order", index_col, value_col] + (["doc_id"] if ids is not None else [])

    def read(f: Path) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray] | None:
        t = pq.read_table(f, columns=cols)
        if t.num_rows == 0:
            return None
        o, i = _flattened(t, index_col)
        return t, o, i, pc.list_flatten(t[value_col]).to_numpy(zero_copy_only=False)

    parts = [r for r in per_file(read, signed) if r is not None]
    if ids is not None:
        for t, *_ in parts:
            ids.update(zip(t["order"].to_pylist(), t["doc_id"].to_pylist(), strict=True))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.uint64)
    return (np.concatenate([r[1] for r in parts]).astype(np.int64), np.concatenate([r[2] for r in parts]),
            np.concatenate([r[3] for r in parts]))


def _live(order: np.ndarray, removed_docs: set[int]) -> np.ndarray:
    """Mask of the entries whose document was not removed as a near-duplicate."""
    if not removed_docs:
        return np.ones(len(order), dtype=bool)
    return ~np.isin(order, np.fromiter(removed_docs, dtype=np.int64))


def _exact_paragraph_duplicates(signed: list[Path], removed_docs: set[int], ids: dict[int, str],
                                index_root: Path | None = None,
                                exclude: list[str] | None = None) -> tuple[list[dict[str, Any]], int, int]:
    order, p, h = _paragraph_columns(signed, "pindex", "phash", ids)
    live = _live(order, removed_docs)
    order, h, p = order[live], h[live].astype(np.uint64), p[live].astype(np.int32)
    judged = len(h)
    rows = []
    if index_root is not None and judged:
        earlier = index.match_paragraphs(index_root, h, exclude or ())
        for e, (old_id, old_p) in sorted(earlier.items()):
            rows.append({"order": int(order[e]), "paragraph_index": int(p[e]), "duplicate_of": old_id,
                         "duplicate_of_order": -1, "duplicate_of_paragraph": int(old_p), "similarity": 1.0})
        if earlier:
            rest = np.ones(judged, dtype=bool)
            rest[np.fromiter(earlier, dtype=np.int64)] = False
            order, h, p = order[rest], h[rest], p[rest]
    n_earlier = len(rows)
    srt = np.lexsort((p, order, h))
    order, h, p = order[srt], h[srt], p[srt]
    first = np.concatenate(([True], h[1:] != h[:-1])) if len(h) else np.empty(0, bool)
    head = np.maximum.accumulate(np.where(first, np.arange(len(h)), 0)) if len(h) else np.empty(0, int)
    for i in np.flatnonzero(~first).tolist():
        j = int(head[i])
        if order[i] == order[j]:
            continue  # a repeat inside one document is the in-document stage's business
        rows.append({"order": int(order[i]), "paragraph_index": int(p[i]), "duplicate_of": ids[int(order[j])],
                     "duplicate_of_order": int(order[j]), "duplicate_of_paragraph": int(p[j]), "similarity": 1.0})
    return rows, judged, n_earlier


def _near_rows(signed: list[Path], removed_docs: set[int],
               exact: set[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paragraphs the near pass judges, in input order: their document ``order``, paragraph
    index and band keys ``[n, PARAGRAPH_BANDS]``. Paragraphs of documents removed as near-duplicates
    and paragraphs the exact pass removed are left out as each shard is read, and each shard's
    keys go straight into one array of the judged rows: the corpus's keys are never held twice."""
    def judged(f: Path) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray] | None:
        t = pq.read_table(f, columns=["order", "pnear"])
        if t.num_rows == 0:
            return None
        o, p = _flattened(t, "pnear")
        p = p.astype(np.int32, copy=False)
        live = _live(o, removed_docs)
        if exact:
            live &= np.fromiter(((a, b) not in exact for a, b in zip(o.tolist(), p.tolist(), strict=True)),
                                dtype=bool, count=len(o))
        return f, o[live], p[live], live

    kept = [r for r in per_file(judged, signed) if r is not None]
    starts = np.cumsum([0] + [len(o) for _, o, _, _ in kept])
    keys = np.empty((int(starts[-1]), PARAGRAPH_BANDS), dtype=np.uint64)

    def fill(k: int) -> None:
        f, o, _, live = kept[k]
        if len(o):
            flat = pc.list_flatten(pq.read_table(f, columns=["pkeys"])["pkeys"]).to_numpy(zero_copy_only=False)
            keys[starts[k]:starts[k + 1]] = flat.reshape(-1, PARAGRAPH_BANDS)[live]

    per_file(fill, list(range(len(kept))))
    order = np.concatenate([o for _, o, _, _ in kept]) if kept else np.empty(0, np.int64)
    p = np.concatenate([p for _, _, p, _ in kept]) if kept else np.empty(0, np.int32)
    in_order = bool(np.all((order[1:] > order[:-1]) | ((order[1:] == order[:-1]) & (p[1:] > p[:-1]))))
    if not in_order:  # shards listed out of input order (not the flow's way): sort the rows
        srt = np.lexsort((p, order))
        order, p, keys = order[srt], p[srt], keys[srt]
    return order, p, keys


def _paragraph_sets(prepared: list[Path], order: np.ndarray, p: np.ndarray,
                    shingle_words: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shingle sets (:func:`paragraph_shingles`) of the paragraphs ``(order[i], p[i])`` (ascending,
    distinct), read back from the prepared shards a shard at a time: only the sets are kept, never
    the texts. Returns the sets' values and offsets and, for each wanted paragraph, its set's number."""
    n = len(order)
    docs = np.unique(order)
    wanted = (np.searchsorted(docs, order).astype(np.int64) << 32) | p.astype(np.int64)  # ascending
    values: list[np.ndarray] = []
    offsets: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    where: list[np.ndarray] = []
    base = 0
    doc_set = pa.array(docs, type=pa.int64())

    def read(f: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        if not n or not f.exists():
            return None
        t = pq.read_table(f, columns=["order", "paragraphs", "pindex"])
        t = t.filter(pc.is_in(t["order"], value_set=doc_set))
        if t.num_rows == 0:
            return None
        fo, fp = _flattened(t, "pindex")
        fp = fp.astype(np.int64)
        key = (np.searchsorted(docs, fo).astype(np.int64) << 32) | fp
        j = np.minimum(np.searchsorted(wanted, key), n - 1)
        hit = np.flatnonzero(wanted[j] == key)
        if not len(hit):
            return None
        texts = pc.take(pc.list_flatten(t["paragraphs"]), pa.array(hit)).to_pylist()
        vals, offs = minhash.text_shingle_sets(texts, shingle_words)
        return vals, offs, j[hit]

    for got in per_file(read, prepared):
        if got is None:
            continue
        vals, offs, at = got
        values.append(vals)
        offsets.append(offs[1:] + base)
        base += len(vals)
        where.append(at)
    got = np.concatenate(where) if where else np.empty(0, np.int64)
    if len(got) != n or (n and len(np.unique(got)) != n):
        raise RuntimeError(f"{n - len(np.unique(got))} of {n} paragraphs not found in the prepared shards")
    slot = np.empty(n, dtype=np.int64)
    slot[got] = np.arange(n)
    return ((np.concatenate(values) if values else np.empty(0, np.uint32)), np.concatenate(offsets), slot)


def _shared_bands(keys: np.ndarray, pairs: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    """How many band keys each pair of rows has in common: :func:`minhash.estimate_jaccard` of the
    key rows (the share of equal values) times the number of bands, in chunks (a pair's two key rows
    are gathered only ``chunk`` pairs at a time)."""
    out = np.empty(len(pairs), dtype=np.int64)
    for s in range(0, len(pairs), chunk):
        a, b = pairs[s:s + chunk, 0], pairs[s:s + chunk, 1]
        out[s:s + chunk] = np.rint(minhash.estimate_jaccard(keys[a], keys[b]) * keys.shape[1])
    return out


def _near_paragraph_duplicates(signed: list[Path], prepared: list[Path], removed_docs: set[int],
                               exact: set[tuple[int, int]], ids: dict[int, str],
                               cfg: ParagraphDedupConfig) -> tuple[list[dict[str, Any]], dict[str, int]]:
    order, p, k = _near_rows(signed, removed_docs, exact)
    stats = {"near_judged": len(order), "near_candidate_pairs": 0, "near_verified_pairs": 0}
    pairs = minhash.candidate_pairs(k)
    if len(pairs):
        pairs = pairs[order[pairs[:, 0]] != order[pairs[:, 1]]]  # across documents only
    stats["near_candidate_pairs"] = int(len(pairs))
    if cfg.near_min_bands > 1 and len(pairs):
        # Most candidates share one band by chance (a few words in common); a near copy shares
        # several. Only pairs sharing ``near_min_bands`` bands have their texts read and compared.
        pairs = pairs[_shared_bands(k, pairs) >= cfg.near_min_bands]
    del k
    stats["near_pairs_compared"] = int(len(pairs))
    if not len(pairs):
        return [], stats
    rows_needed = np.unique(pairs)
    # paragraph_shingles of each needed paragraph and the exact Jaccard of each pair, compiled
    values, offsets, slot = _paragraph_sets(prepared, order[rows_needed], p[rows_needed], cfg.near_shingle_words)
    local = np.searchsorted(rows_needed, pairs)
    sims = minhash.jaccard_pairs(values, offsets, slot[local[:, 0]], slot[local[:, 1]])
    del values, offsets, local
    # Each paragraph's verified matches among earlier paragraphs (pairs are (earlier, later) rows).
    earlier: dict[int, list[tuple[int, float]]] = {}
    hit = np.flatnonzero(sims >= cfg.near_threshold)
    stats["near_verified_pairs"] = int(len(hit))
    for (a, b), sim in zip(pairs[hit].tolist(), sims[hit].tolist(), strict=True):
        earlier.setdefault(b, []).append((a, sim))
    # In input order: a paragraph goes when it matches an earlier paragraph that was kept, so every
    # removed paragraph points at a surviving one (chains A~B~C with A!~C keep C).
    removed: set[int] = set()
    out = []
    for b in sorted(earlier):
        kept = [(a, sim) for a, sim in earlier[b] if a not in removed]
        if not kept:
            continue
        a, sim = min(kept, key=lambda x: (-x[1], x[0]))
        removed.add(b)
        out.append({"order": int(order[b]), "paragraph_index": int(p[b]), "duplicate_of": ids[int(order[a])],
                    "duplicate_of_order": int(order[a]), "duplicate_of_paragraph": int(p[a]),
                    "similarity": round(sim, 4)})
    return out, stats


def find_duplicate_paragraphs(signed: list[Path], prepared: list[Path], decisions_path: Path, out: Path,
                              cfg: ParagraphDedupConfig | None = None, index_root: Path | None = None,
                              exclude: list[str] | None = None) -> dict[str, Any]:
    """Paragraphs that repeat a paragraph of an earlier document, decided corpus-wide.

    Exact pass: paragraphs of at least ``min_words`` words whose folded form
    (case, punctuation, spacing) equals an earlier document's paragraph. Near
    pass (``near``): of the rest, paragraphs of at least ``near_min_words``
    words whose word-shingle Jaccard similarity with a kept paragraph of an
    earlier document reaches ``near_threshold`` (MinHash LSH for candidates,
    exact Jaccard to verify; the candidates' texts are read back from the
    ``prepared`` shards). Documents already removed as near-duplicates take no
    part; the first occurrence in input order is kept. With ``index_root``, exact copies of
    paragraphs earlier runs kept go first, pointing at them (``duplicate_of_order`` -1).
    """
    t0 = time.perf_counter()
    cfg = cfg or ParagraphDedupConfig()
    removed_docs = _removed_documents(decisions_path)
    ids: dict[int, str] = {}
    rows, judged, n_earlier = _exact_paragraph_duplicates(signed, removed_docs, ids, index_root, exclude)
    stats: dict[str, Any] = {"paragraphs_judged": judged, "exact_duplicates": len(rows),
                             "duplicates_of_earlier_runs": n_earlier}
    if cfg.near:
        near, nstats = _near_paragraph_duplicates(signed, prepared, removed_docs,
                                                  {(r["order"], r["paragraph_index"]) for r in rows}, ids, cfg)
        rows.extend(near)
        stats.update(nstats)
        stats["near_duplicates"] = len(near)
    rows.sort(key=lambda r: (r["order"], r["paragraph_index"]))
    write_staged_table(pa.Table.from_pylist(rows, schema=PARAGRAPH_DECISIONS_SCHEMA), out)
    stats["duplicate_paragraphs"] = len(rows)
    stats["seconds"] = time.perf_counter() - t0
    return stats
