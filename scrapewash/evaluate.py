"""Evaluate cleaning against gold text: run the pipeline on a raw JSONL, score what it kept.

``scrapewash eval RAW.jsonl[.gz] --gold GOLD.jsonl[.gz] --out DIR`` runs the
``clean-corpus`` flow on RAW, reads the kept documents back from the Parquet
output (a document removed as a whole counts as kept text ""), and scores them
against the ``gold`` field of GOLD with :mod:`scrapewash.metrics`, next to the
score of doing nothing (the raw text itself).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from scrapewash.metrics import Score, doc_counts, score


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def kept_texts(out: str | Path, run_id: str) -> dict[str, str]:
    d = Path(out) / "documents" / run_id
    if not d.is_dir():
        return {}
    t = ds.dataset(str(d), format="parquet").to_table(columns=["doc_id", "text"])
    return dict(zip(t["doc_id"].to_pylist(), t["text"].to_pylist(), strict=True))


def score_run(raw: list[dict[str, Any]], gold: dict[str, str], kept: dict[str, str]) -> dict[str, Any]:
    ids = [str(r["id"]) for r in raw if str(r["id"]) in gold]
    baseline = score((next(r["text"] for r in raw if str(r["id"]) == i), gold[i]) for i in ids)
    raw_by_id = {str(r["id"]): r["text"] for r in raw}
    cleaned = score((kept.get(i, ""), gold[i]) for i in ids)
    worst = sorted(
        ({"id": i, "f1_delta": _f1(kept.get(i, ""), gold[i]) - _f1(raw_by_id[i], gold[i])} for i in ids),
        key=lambda r: r["f1_delta"],
    )[:10]
    return {"documents": len(ids), "doing_nothing": _as_dict(baseline), "cleaned": _as_dict(cleaned),
            "worst_documents": worst}


def _f1(pred: str, gold: str) -> float:
    c = doc_counts(pred, gold)
    p, r = c.precision or 0.0, c.recall or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _as_dict(s: Score) -> dict[str, float]:
    return {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4)}
