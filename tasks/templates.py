"""Site templates learned from the corpus, and paragraph hashes for corpus-wide duplicates.

A paragraph whose *template form* (case folded, digits, month and weekday names
folded, punctuation dropped) occurs in at least ``min_docs`` documents of the
same site is part of the site's template — navigation, footer, address line,
a standing appeal — and is removed from every page, ``reason="site_template"``.
The site is the URL's host (without ``www.``) or, for documents without a URL,
the folder the input file is in.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
_DATE_WORDS = re.compile(rf"\b(?:{_MONTHS}|{_DAYS})\b")
_DIGITS = re.compile(r"\d+")
_NONWORD = re.compile(r"[\W_]+")

TEMPLATES_SCHEMA = pa.schema([
    pa.field("site", pa.string(), nullable=False),
    pa.field("key", pa.uint64(), nullable=False),
    pa.field("n_docs", pa.int32(), nullable=False),
])


def template_form(paragraph: str) -> str:
    """The form under which a paragraph is compared with the same site's other pages."""
    s = paragraph.casefold()
    s = _DATE_WORDS.sub(" D ", s)
    s = _DIGITS.sub("0", s)
    return _NONWORD.sub(" ", s).strip()


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def template_keys(paragraphs: Sequence[str]) -> list[int]:
    return [_h64(template_form(p)) for p in paragraphs]


def site_of(url: str | None, source: str) -> str:
    """The site a document belongs to: URL host, else the folder of its input file."""
    if url:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if host:
            return host[4:] if host.startswith("www.") else host
    return "dir:" + os.path.dirname(source)


def find_templates(prepared: list[Path], min_docs: int, out: Path, min_docs_short: int | None = None,
                   short_words: int = 10) -> dict[str, Any]:
    """Count each (site, template key) over distinct documents (kept lines and lines the line
    model removed: both are evidence of a template); keep those on at least ``min_docs`` pages (``min_docs_short`` for paragraphs of fewer than ``short_words`` words:
    menu items, site names and footer lines are short, and two pages of a site already tell)."""
    t0 = time.perf_counter()
    min_short = min_docs if min_docs_short is None else min_docs_short
    sites, keys, orders, shorts = [], [], [], []
    for f in prepared:
        t = pq.read_table(f, columns=["order", "site", "tkeys", "twords", "xkeys", "xwords"])
        if t.num_rows == 0:
            continue
        for kcol, wcol in (("tkeys", "twords"), ("xkeys", "xwords")):  # kept lines, and the line model's
            lens = pc.list_value_length(t[kcol]).to_numpy(zero_copy_only=False)
            keys.append(pc.list_flatten(t[kcol]).to_numpy(zero_copy_only=False))
            shorts.append(pc.list_flatten(t[wcol]).to_numpy(zero_copy_only=False) < short_words)
            orders.append(np.repeat(t["order"].to_numpy(), lens))
            sites.append(np.repeat(np.array(t["site"].to_pylist(), dtype=object), lens))
    stats: dict[str, Any] = {"template_keys": 0, "sites_with_templates": 0}
    rows: list[dict[str, Any]] = []
    if keys:
        key = np.concatenate(keys).astype(np.uint64)
        order = np.concatenate(orders)
        site = np.concatenate(sites)
        short = np.concatenate(shorts)
        site_codes, site_idx = np.unique(site.astype(str), return_inverse=True)
        # distinct (site, key, document), then documents per (site, key)
        rec = np.rec.fromarrays([site_idx.astype(np.int64), key, order], names="s,k,o")
        uniq, first = np.unique(rec, return_index=True)
        sk = np.rec.fromarrays([uniq["s"], uniq["k"]], names="s,k")
        groups, start, counts = np.unique(sk, return_index=True, return_counts=True)
        is_short = short[first][start]
        hit = counts >= np.where(is_short, min_short, min_docs)
        for g, c in zip(groups[hit], counts[hit], strict=True):
            rows.append({"site": str(site_codes[g["s"]]), "key": int(g["k"]), "n_docs": int(c)})
        stats["template_keys"] = len(rows)
        stats["sites_with_templates"] = len({r["site"] for r in rows})
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=TEMPLATES_SCHEMA), out)
    stats["seconds"] = time.perf_counter() - t0
    return stats


def load_templates(path: Path) -> dict[str, dict[int, int]]:
    """site -> {template key: number of pages it is on}."""
    if not path.exists():
        return {}
    out: dict[str, dict[int, int]] = {}
    t = pq.read_table(path)
    for site, key, n in zip(t["site"].to_pylist(), t["key"].to_pylist(), t["n_docs"].to_pylist(), strict=True):
        out.setdefault(site, {})[key] = n
    return out
