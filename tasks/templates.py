"""Site templates learned from the corpus, and paragraph hashes for corpus-wide duplicates.

A paragraph whose *template form* (case folded, digits, month and weekday names
folded, punctuation dropped) occurs in at least ``min_docs`` documents of the
same site is part of the site's template — navigation, footer, address line,
a standing appeal — and is removed from every page, ``reason="site_template"``,
except where a short run of such lines sits inside the page's own text (a "Pros" heading, a line
of code: ``[templates] embedded_run``, applied by :func:`scrapewash.tasks.sign.template_mask`).
The site is the URL's host (without ``www.``) or, for documents without a URL,
the folder the input file is in.
"""

from __future__ import annotations

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

from scrapewash.tasks import forms, index, minhash
from scrapewash.tasks.write import write_staged_table

_DATE_WORDS = re.compile(rf"\b(?:{'|'.join(forms.DATE_NAMES)})\b")  # month and weekday names
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
    return minhash.h64(s.encode("utf-8", "surrogatepass"))


_WORD_RUN = re.compile(r"\w+")
_DATE_NAMES = frozenset(forms.DATE_NAMES)


# minhash.BLANK_NON_WORD with "\n" kept and every ASCII digit made "0", for bytes.translate
_FORM_BYTES = bytes(0x0A if c == 0x0A else 0x30 if 0x30 <= c <= 0x39 else minhash.BLANK_NON_WORD[c] for c in range(256))


def template_forms(paragraphs: Sequence[str]) -> list[str]:
    """:func:`template_form` of each paragraph, read word by word: a date word is a whole ``\\w+``
    run (the pattern's ``\\b`` on both sides), digits fold within a run, and what is left are the
    runs split at "_" joined by one space (tested equal to :func:`template_form`).

    The paragraphs that are ASCII without "_" or "\\n" once typographic punctuation is blanked are
    formed together (:func:`_ascii_forms`); the others word by word."""
    blanked = [minhash.ascii_without_typography(p) for p in paragraphs]
    fast = [i for i, b in enumerate(blanked) if b is not None and "_" not in b and "\n" not in b]
    out: list[str] = [None] * len(paragraphs)  # type: ignore[list-item]
    for i, form in zip(fast, _ascii_forms([blanked[i] for i in fast]), strict=True):  # type: ignore[misc]
        out[i] = form
    names = _DATE_NAMES
    for i, p in enumerate(paragraphs):
        if out[i] is not None:
            continue
        words = []
        for t in _WORD_RUN.findall(p.casefold()):
            if t in names:
                words.append("D")
            elif t.isalpha():
                words.append(t)
            else:
                words.extend(x for x in _DIGITS.sub("0", t).split("_") if x)
        out[i] = " ".join(words)
    return out


def _ascii_forms(texts: list[str]) -> list[str]:
    """Template forms of ASCII texts without "_" or "\\n", all at once: joined by "\\n", one
    lower-casing and one byte translation (non-word characters to spaces but "\\n", digits to "0"),
    runs of "0" collapsed, then cut at the "\\n" (a digit run never spans it, a date name has no
    digit) and the date words swapped."""
    if not texts:
        return []
    t = "\n".join(texts).lower().encode("ascii").translate(_FORM_BYTES).decode("ascii")
    while "00" in t:
        t = t.replace("00", "0")
    names = _DATE_NAMES
    out = []
    for line in t.split("\n"):
        words = line.split()
        if not names.isdisjoint(words):
            words = ["D" if w in names else w for w in words]
        out.append(" ".join(words))
    return out


def template_keys(paragraphs: Sequence[str]) -> list[int]:
    """The 64-bit hash of each paragraph's :func:`template_form` (BLAKE2b of its UTF-8), the forms
    made in one compiled pass (:func:`scrapewash.tasks.forms.keys_and_forms`; the patterns where it
    cannot read a paragraph). Equal to :func:`template_keys_reference` (tested)."""
    made = forms.keys_and_forms(paragraphs)
    if made is None:
        return template_keys_reference(paragraphs)
    _, utf8, elsewhere = made
    out = [minhash.h64(f) for f in utf8]
    for i, f in zip(elsewhere, template_forms([paragraphs[i] for i in elsewhere]), strict=True):
        out[i] = _h64(f)
    return out


def keys_of_forms(paragraphs: Sequence[str], indexes: Sequence[int], page_forms: dict[int, bytes] | None) -> list[int]:
    """:func:`template_keys` of a page's ``paragraphs`` (input indexes ``indexes``) from the forms the
    cleaning already made (:attr:`scrapewash.records.CleanDocument.forms`); a paragraph without one is
    formed here."""
    if page_forms is None:
        return template_keys(paragraphs)
    get = page_forms.get
    out = []
    for p, i in zip(paragraphs, indexes, strict=True):
        f = get(i)
        out.append(minhash.h64(f) if f is not None else _h64(template_form(p)))
    return out


def template_keys_reference(paragraphs: Sequence[str]) -> list[int]:
    return [_h64(f) for f in template_forms(paragraphs)]


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


def _documents_per_key(site: np.ndarray, key: np.ndarray, order: np.ndarray,
                       short: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each distinct (site, key), ascending, with the number of distinct documents (``order``) it is
    on, and whether it is short where it first occurs in its first document. One stable sort of the
    three columns (sorting them as records took three times as long)."""
    n = len(key)
    idx = np.lexsort((order, key, site))  # stable: equal rows keep their input order
    s, k, o = site[idx], key[idx], order[idx]
    same_key = np.zeros(n, dtype=bool)
    same_key[1:] = (s[1:] == s[:-1]) & (k[1:] == k[:-1])
    new_doc = ~same_key
    new_doc[1:] |= o[1:] != o[:-1]
    distinct = np.flatnonzero(new_doc)  # first row of each (site, key, document)
    starts = np.flatnonzero(~same_key[distinct])  # ... of which the first of each (site, key)
    counts = np.diff(np.append(starts, len(distinct)))
    head = distinct[starts]
    return s[head], k[head], counts, short[idx[head]]


def find_templates(prepared: list[Path], min_docs: int, out: Path, min_docs_short: int | None = None,
                   short_words: int = 10, stats_out: Path | None = None, index_root: Path | None = None,
                   exclude: Sequence[str] = ()) -> dict[str, Any]:
    """Count each (site, template key) over distinct documents (kept lines and lines the line
    model removed: both are evidence of a template); keep those on at least ``min_docs`` pages
    (``min_docs_short`` for paragraphs of fewer than ``short_words`` words: menu items, site names
    and footer lines are short, and two pages of a site already tell).

    With ``index_root``, the pages earlier runs counted (the dedup index, ``tasks/index.py``) are
    added to this run's; ``stats_out`` receives this run's counts for the index."""
    t0 = time.perf_counter()
    min_short = min_docs if min_docs_short is None else min_docs_short
    sites, keys, orders, shorts = [], [], [], []
    numbers: dict[str, int] = {}  # site -> its number, in order of first sight
    for f in prepared:
        t = pq.read_table(f, columns=["order", "site", "tkeys", "twords", "xkeys", "xwords"])
        if t.num_rows == 0:
            continue
        # each page's site as a number (a few distinct sites per shard: no string per line)
        enc = pc.dictionary_encode(t["site"]).combine_chunks()
        local = np.array([numbers.setdefault(s, len(numbers)) for s in enc.dictionary.to_pylist()], dtype=np.int64)
        page_site = local[enc.indices.to_numpy(zero_copy_only=False)]
        for kcol, wcol in (("tkeys", "twords"), ("xkeys", "xwords")):  # kept lines, and the line model's
            lens = pc.list_value_length(t[kcol]).to_numpy(zero_copy_only=False)
            keys.append(pc.list_flatten(t[kcol]).to_numpy(zero_copy_only=False))
            shorts.append(pc.list_flatten(t[wcol]).to_numpy(zero_copy_only=False) < short_words)
            orders.append(np.repeat(t["order"].to_numpy(), lens))
            sites.append(np.repeat(page_site, lens))
    stats: dict[str, Any] = {"template_keys": 0, "sites_with_templates": 0}
    rows: list[dict[str, Any]] = []
    if keys:
        key = np.concatenate(keys).astype(np.uint64, copy=False)
        del keys
        order = np.concatenate(orders)
        del orders
        short = np.concatenate(shorts)
        names = sorted(numbers)  # site numbers in sorted order of the names, as np.unique gives them
        rank = np.empty(len(names), dtype=np.int64)
        rank[[numbers[s] for s in names]] = np.arange(len(names))
        site_idx = rank[np.concatenate(sites)]
        del sites
        site_codes = np.array(names, dtype=object)
        groups_s, groups_k, counts, is_short = _documents_per_key(site_idx.astype(np.int64), key, order, short)
        run_stats = pa.table({"site": pa.array(site_codes[groups_s].tolist(), pa.string()),
                              "key": pa.array(groups_k, pa.uint64()),
                              "n_docs": pa.array(counts, pa.int32()), "short": pa.array(is_short, pa.bool_())})
        if stats_out is not None:
            write_staged_table(run_stats.cast(index.TEMPLATE_STATS_SCHEMA), stats_out)
        if index_root is not None:
            earlier = index.template_counts(index_root, site_codes.tolist(), exclude)
            stats["pages_from_earlier_runs"] = int(pc.sum(earlier["n_docs"]).as_py() or 0)
            if earlier.num_rows:
                merged = pa.concat_tables([run_stats.cast(index.TEMPLATE_STATS_SCHEMA), earlier])
                g = merged.group_by(["site", "key"]).aggregate([("n_docs", "sum"), ("short", "max")])
                run_stats = pa.table({"site": g["site"], "key": g["key"], "n_docs": g["n_docs_sum"],
                                      "short": g["short_max"]})
        n = run_stats["n_docs"].to_numpy()
        hit = n >= np.where(run_stats["short"].to_numpy(zero_copy_only=False), min_short, min_docs)
        present = set(site_codes.tolist())
        hits = run_stats.filter(pa.array(hit))
        for site_, key_, n_ in zip(hits["site"].to_pylist(), hits["key"].to_pylist(), hits["n_docs"].to_pylist(),
                                   strict=True):
            if site_ in present:
                rows.append({"site": site_, "key": int(key_), "n_docs": int(n_)})
        rows.sort(key=lambda r: (r["site"], r["key"]))
        stats["template_keys"] = len(rows)
        stats["sites_with_templates"] = len({r["site"] for r in rows})
    elif stats_out is not None:
        write_staged_table(index.TEMPLATE_STATS_SCHEMA.empty_table(), stats_out)
    write_staged_table(pa.Table.from_pylist(rows, schema=TEMPLATES_SCHEMA), out)
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
