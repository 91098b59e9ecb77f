"""A syndicated-copies test set, and how well near-duplicate detection recovers it.

Built from human-cleaned article bodies (the ``gold`` of an evaluation set): each
article appears once, wrapped in the boilerplate of some real page, and some
articles get one to three *copies* — the same story on another site: wrapped in a
different page's boilerplate, with a new headline, a wire dateline, the last
paragraph dropped and a few typos. The truth is which documents are copies of
which; the score compares it with the clusters scrapewash forms
(``duplicate_of``): adjusted Rand index, pair precision and pair recall.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from itertools import combinations
from math import comb
from pathlib import Path
from typing import Any

DATELINES = ["LONDON (Wire) — ", "WASHINGTON (AP) — ", "PARIS (Reuters) — ", "BERLIN (dpa) — ",
             "NEW YORK (Newswire) — ", "SYDNEY (AAP) — "]
HEADLINE_PREFIXES = ["UPDATE: ", "Report: ", "What we know: ", "Explainer: ", "Breaking: "]


def _boilerplate_lines(raw: str, gold: str) -> list[str]:
    gold_lines = {g.strip() for g in gold.split("\n") if g.strip()}
    return [ln.strip() for ln in raw.split("\n") if ln.strip() and ln.strip() not in gold_lines
            and ln.strip() not in gold]


def _typos(text: str, rng: random.Random, n: int) -> str:
    words = text.split(" ")
    for _ in range(n):
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 3:
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def build(bodies: list[dict[str, Any]], wrappers: list[dict[str, Any]], seed: int = 7,
          copy_weights: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1)) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Make the documents and the truth (doc id -> cluster number).

    ``bodies``: ``{"id", "gold"}`` article bodies; ``wrappers``: ``{"url", "lines"}`` boilerplate
    of real pages (see :func:`wrappers_from`). Deterministic for a seed.
    """
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    truth: dict[str, int] = {}
    for cluster, body in enumerate(bodies):
        paras = [p.strip() for p in body["gold"].split("\n") if p.strip()]
        if len(paras) < 3:
            continue
        n_copies = rng.choices(range(len(copy_weights)), weights=copy_weights)[0]
        for c in range(n_copies + 1):
            w = wrappers[rng.randrange(len(wrappers))]
            lines = w["lines"]
            cut = rng.randint(0, min(len(lines), 12))
            head, foot = lines[:cut], lines[cut:][-15:]
            p = list(paras)
            if c > 0:  # a syndicated copy: light edits
                p[0] = rng.choice(HEADLINE_PREFIXES) + p[0]
                p[1] = rng.choice(DATELINES) + p[1]
                if len(p) > 4 and rng.random() < 0.6:
                    p = p[:-1]
                k = rng.randrange(1, len(p))
                p[k] = _typos(p[k], rng, rng.randint(1, 3))
            doc_id = f"{body['id']}#copy{c}"
            docs.append({"id": doc_id, "url": w["url"], "text": "\n".join(head + p + foot)})
            truth[doc_id] = cluster
    order = list(range(len(docs)))
    rng.shuffle(order)
    return [docs[i] for i in order], truth


def wrappers_from(raw_pages: Iterable[dict[str, Any]], gold: dict[str, str], limit: int = 200) -> list[dict[str, Any]]:
    """Boilerplate of real pages: their lines that are not in their gold body."""
    out = []
    for r in raw_pages:
        g = gold.get(str(r["id"]))
        if g is None:
            continue
        lines = _boilerplate_lines(r["text"], g)
        if len(lines) >= 5:
            out.append({"url": r.get("url") or f"https://example.invalid/{r['id']}", "lines": lines})
        if len(out) >= limit:
            break
    return out


def adjusted_rand_index(truth: list[int], pred: list[int]) -> float:
    n = len(truth)
    cont = Counter(zip(truth, pred, strict=True))
    a = Counter(truth)
    b = Counter(pred)
    index = sum(comb(v, 2) for v in cont.values())
    sa = sum(comb(v, 2) for v in a.values())
    sb = sum(comb(v, 2) for v in b.values())
    expected = sa * sb / comb(n, 2) if n > 1 else 0.0
    maximum = (sa + sb) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def score_clusters(truth: dict[str, int], duplicate_of: dict[str, str]) -> dict[str, Any]:
    """Compare true clusters with predicted ones (a removed copy joins the cluster of what it
    duplicates; everything else is its own cluster's root)."""
    ids = sorted(truth)

    def root(d: str) -> str:
        seen = set()
        while d in duplicate_of and d not in seen:
            seen.add(d)
            d = duplicate_of[d]
        return d

    pred_label = {d: root(d) for d in ids}
    codes = {r: i for i, r in enumerate(sorted(set(pred_label.values())))}
    pred = [codes[pred_label[d]] for d in ids]
    true = [truth[d] for d in ids]
    by_pred: dict[int, list[str]] = {}
    for d, c in zip(ids, pred, strict=True):
        by_pred.setdefault(c, []).append(d)
    pred_pairs = {tuple(sorted(p)) for g in by_pred.values() for p in combinations(g, 2)}
    by_true: dict[int, list[str]] = {}
    for d in ids:
        by_true.setdefault(truth[d], []).append(d)
    true_pairs = {tuple(sorted(p)) for g in by_true.values() for p in combinations(g, 2)}
    tp = len(pred_pairs & true_pairs)
    return {
        "documents": len(ids),
        "true_clusters_with_copies": sum(1 for g in by_true.values() if len(g) > 1),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(pred_pairs),
        "pair_precision": round(tp / len(pred_pairs), 4) if pred_pairs else 1.0,
        "pair_recall": round(tp / len(true_pairs), 4) if true_pairs else 1.0,
        "adjusted_rand_index": round(adjusted_rand_index(true, pred), 4),
    }


def duplicate_links(out: str | Path, run_id: str) -> dict[str, str]:
    """doc_id -> duplicate_of for the documents a run removed as near-duplicates."""
    import pyarrow.dataset as ds

    t = ds.dataset(str(Path(out) / "removed" / run_id), format="parquet").to_table(
        columns=["doc_id", "reason", "duplicate_of"])
    return {d: o for d, r, o in zip(t["doc_id"].to_pylist(), t["reason"].to_pylist(), t["duplicate_of"].to_pylist(),
                                    strict=True) if r == "near_duplicate_document"}


def write_jsonl(docs: list[dict[str, Any]], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
