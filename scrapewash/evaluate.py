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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from scrapewash.metrics import Score, doc_counts, score


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def _kept_column(out: str | Path, run_id: str, column: str) -> dict[str, Any]:
    """doc_id → ``column`` of a run's kept documents; empty when the run kept none or its files
    have no such column (a run written before the column existed)."""
    d = Path(out) / "documents" / run_id
    if not d.is_dir():
        return {}
    dataset = ds.dataset(str(d), format="parquet")
    if column not in dataset.schema.names:
        return {}
    t = dataset.to_table(columns=["doc_id", column])
    return dict(zip(t["doc_id"].to_pylist(), t[column].to_pylist(), strict=True))


def kept_texts(out: str | Path, run_id: str) -> dict[str, str]:
    return _kept_column(out, run_id, "text")


def kept_titles(out: str | Path, run_id: str) -> dict[str, str | None]:
    """The ``title`` column of a run's kept documents (empty for a run written before it existed)."""
    return _kept_column(out, run_id, "title")


_WORDS = re.compile(r"\w+")


def title_scores(records: list[dict[str, Any]], titles: dict[str, str | None]) -> dict[str, Any] | None:
    """How the ``title`` column compares with the gold ``title`` of the pages that have one: how many
    got a title, how many exactly the gold's (words compared, case folded), how many the gold's with
    more words around it (a site's name), and how many a title that is no part of the gold's.
    None when no gold record has a title."""
    have = [g for g in records if isinstance(g.get("title"), str) and _WORDS.search(g["title"])]
    if not have:
        return None
    found = exact = around = other = 0
    for g in have:
        t = titles.get(str(g["id"]))
        if not t:
            continue
        found += 1
        want = " ".join(_WORDS.findall(g["title"].casefold()))
        got = " ".join(_WORDS.findall(t.casefold()))
        if got == want:
            exact += 1
        elif f" {want} " in f" {got} ":
            around += 1
        elif f" {got} " not in f" {want} ":
            other += 1
    return {"gold_titles": len(have), "found": found, "exact": exact, "gold_within": around,
            "unrelated": other}


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def snippet_present(snippet: str, text_norm: str) -> bool:
    """Whether ``snippet`` occurs in a normalised text as whole words."""
    s = _norm(snippet)
    if not s:
        return False
    return re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", text_norm) is not None


def snippet_scores(records: list[dict[str, Any]], texts: dict[str, str],
                   repair: Callable[[str], str] | None = None) -> dict[str, Any] | None:
    """Share of ``without`` snippets (boilerplate) gone and of ``with`` snippets (content) kept.

    Only snippets present in the input text count: a snippet the input never had says nothing
    about the cleaner. ``repair``: the run's encoding repair. A snippet copied from the broken
    input ("youâ\x80\x99re", "com\xadplete", a byte-order mark) is also looked for as the
    repair writes it, so a repaired line counts as the same line, kept or removed alike.
    """
    removed = total_without = kept = total_with = 0

    def present(sn: str, text_norm: str) -> bool:
        if snippet_present(sn, text_norm):
            return True
        if repair is None:
            return False
        fixed = repair(sn)
        return fixed != sn and snippet_present(fixed, text_norm)

    for g in records:
        if "with" not in g and "without" not in g:
            continue
        raw_norm = _norm(g["_raw"])
        out_norm = _norm(texts.get(str(g["id"]), ""))
        for sn in g.get("without") or []:
            if snippet_present(sn, raw_norm):
                total_without += 1
                removed += not present(sn, out_norm)
        for sn in g.get("with") or []:
            if snippet_present(sn, raw_norm):
                total_with += 1
                kept += present(sn, out_norm)
    if not total_with and not total_without:
        return None
    return {"without_removed": round(removed / total_without, 4) if total_without else None,
            "with_kept": round(kept / total_with, 4) if total_with else None,
            "without_snippets": total_without, "with_snippets": total_with}


def score_run(raw: list[dict[str, Any]], gold_records: list[dict[str, Any]], kept: dict[str, str],
              report: int = 10, titles: dict[str, str | None] | None = None,
              repair: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Scores of the kept text and of doing nothing, per set and per page type, plus the pages
    where cleaning lost most (``report`` of them), and (``titles``: the kept documents' ``title``
    column) the titles against the gold's, where the gold has them. ``repair``: the run's encoding
    repair, for the snippets (:func:`snippet_scores`)."""
    raw_by_id = {str(r["id"]): r["text"] for r in raw}
    gold_by_id = {str(g["id"]): {**g, "_raw": raw_by_id.get(str(g["id"]), "")} for g in gold_records}
    ids = [i for i in raw_by_id if i in gold_by_id]
    gold = {i: gold_by_id[i]["gold"] for i in ids}
    result: dict[str, Any] = {
        "documents": len(ids),
        "doing_nothing": _as_dict(score((raw_by_id[i], gold[i]) for i in ids)),
        "cleaned": _as_dict(score((kept.get(i, ""), gold[i]) for i in ids)),
    }
    snippets = snippet_scores([gold_by_id[i] for i in ids], kept, repair)
    if snippets:
        result["snippets"] = snippets
        result["snippets_doing_nothing"] = snippet_scores([gold_by_id[i] for i in ids], raw_by_id)
    if titles is not None:
        found = title_scores([gold_by_id[i] for i in ids], titles)
        if found:
            result["titles"] = found
    types = sorted({gold_by_id[i].get("page_type") for i in ids} - {None})
    if types:
        result["by_page_type"] = {
            t: {"documents": len(sel), "doing_nothing": _as_dict(score((raw_by_id[i], gold[i]) for i in sel)),
                "cleaned": _as_dict(score((kept.get(i, ""), gold[i]) for i in sel))}
            for t in types for sel in [[i for i in ids if gold_by_id[i].get("page_type") == t]]
        }
    per_doc = []
    for i in ids:
        before, after = _f1(raw_by_id[i], gold[i]), _f1(kept.get(i, ""), gold[i])
        per_doc.append({"id": i, "url": gold_by_id[i].get("url"), "f1_doing_nothing": round(before, 4),
                        "f1_cleaned": round(after, 4), "delta": round(after - before, 4),
                        "removed_but_in_gold": _lost_lines(raw_by_id[i], kept.get(i, ""), gold[i]),
                        "kept_but_not_in_gold": _extra_lines(kept.get(i, ""), gold[i])})
    per_doc.sort(key=lambda r: (r["delta"], r["f1_cleaned"]))
    result["worst_documents"] = per_doc[:report]
    return result


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _lost_lines(raw: str, kept: str, gold: str, limit: int = 8) -> list[str]:
    kept_n, gold_n = _norm(kept), _norm(gold)
    out = [ln for ln in _lines(raw) if _norm(ln) in gold_n and _norm(ln) not in kept_n]
    return out[:limit]


def _extra_lines(kept: str, gold: str, limit: int = 8) -> list[str]:
    gold_n = _norm(gold)
    return [ln for ln in _lines(kept) if _norm(ln) not in gold_n][:limit]


def _f1(pred: str, gold: str) -> float:
    c = doc_counts(pred, gold)
    p, r = c.precision or 0.0, c.recall or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _as_dict(s: Score) -> dict[str, float]:
    return {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4)}
