"""Paragraphs repeated inside one document: exact and near-exact. The first copy stays.

*Exact* means equal after folding case, punctuation and whitespace (so
"Read more" and "READ MORE:" are the same paragraph). *Near-exact* means a word
2-shingle Jaccard similarity of at least ``near_threshold`` between paragraphs
of at least ``near_min_words`` words: candidates come from MinHash LSH over the
document's paragraphs and are verified with the exact Jaccard of their shingle
sets, so the estimate never decides on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from scrapewash.records import Removal
from scrapewash.tasks import minhash

_NONWORD = re.compile(r"[\W_]+")
_NUM_PERM = 32
_BANDS, _ROWS = 16, 2
_SHINGLE = 2


# ASCII letters and digits kept, every other byte ("_" too: ``[\W_]``) a space, for bytes.translate
_ASCII_NON_ALNUM_TO_SPACE = bytes(c if chr(c).isalnum() else 0x20 for c in range(128)) + b" " * 128


def paragraph_key(paragraph: str) -> str:
    """The exact-match form of a paragraph: case, punctuation and spacing folded.

    ``[\\W_]+`` runs of the case-folded text become one space. Where the paragraph is ASCII once
    typographic punctuation is blanked, that is a byte translation and a split (tested equal to
    :func:`paragraph_key_reference`)."""
    s = minhash.ascii_without_typography(paragraph)
    if s is None:
        return paragraph_key_reference(paragraph)
    key = " ".join(s.lower().encode("ascii").translate(_ASCII_NON_ALNUM_TO_SPACE).decode("ascii").split())
    return key or paragraph.strip()


# The same, with "\n" kept: the table that cuts a page's lines, joined by "\n", in one translation.
_ASCII_NON_ALNUM_TO_SPACE_KEEP_NL = _ASCII_NON_ALNUM_TO_SPACE[:10] + b"\n" + _ASCII_NON_ALNUM_TO_SPACE[11:]


def paragraph_keys(paragraphs: Sequence[str]) -> list[str]:
    """:func:`paragraph_key` of each paragraph. The paragraphs that are ASCII once typographic
    punctuation is blanked (and hold no "\n") are joined by "\n", lower-cased and translated in one
    pass and cut back at the "\n"; the others are keyed one by one (tested equal)."""
    blanked = [minhash.ascii_without_typography(p) for p in paragraphs]
    fast = [i for i, b in enumerate(blanked) if b is not None and "\n" not in b]
    if len(fast) < 2:
        return [paragraph_key(p) for p in paragraphs]
    joined = "\n".join([blanked[i] for i in fast])  # type: ignore[misc]
    lines = joined.lower().encode("ascii").translate(_ASCII_NON_ALNUM_TO_SPACE_KEEP_NL).decode("ascii").split("\n")
    if len(fast) == len(paragraphs):
        return [" ".join(line.split()) or p.strip() for line, p in zip(lines, paragraphs, strict=True)]
    keys: list[str] = [None] * len(paragraphs)  # type: ignore[list-item]
    for i, line in zip(fast, lines, strict=True):
        keys[i] = " ".join(line.split()) or paragraphs[i].strip()
    return [paragraph_key(p) if k is None else k for k, p in zip(keys, paragraphs, strict=True)]


def exact_keys(made: tuple[list[bytes], list[bytes], list[int]], paragraphs: Sequence[str]) -> list[bytes]:
    """:func:`paragraph_key` of each paragraph as UTF-8, from the compiled forms pass's output for
    them (:func:`scrapewash.tasks.forms.keys_and_forms`; the paragraphs it left are keyed here). Two
    keys are equal exactly when the :func:`paragraph_key` strings are."""
    keys, _, elsewhere = made
    out = [k or p.strip().encode("utf-8", "surrogatepass") for k, p in zip(keys, paragraphs, strict=True)]
    for i in elsewhere:
        out[i] = paragraph_key(paragraphs[i]).encode("utf-8", "surrogatepass")
    return out


def paragraph_key_reference(paragraph: str) -> str:
    """:func:`paragraph_key` by its definition: one regex substitution."""
    key = _NONWORD.sub(" ", paragraph.casefold()).strip()
    return key or paragraph.strip()


def paragraph_hash(paragraph: str) -> bytes:
    """A stable 8-byte hash of :func:`paragraph_key`."""
    return hashlib.blake2b(paragraph_key(paragraph).encode("utf-8", "surrogatepass"), digest_size=8).digest()


def paragraph_hashes(paragraphs: Sequence[str]) -> list[int]:
    """:func:`paragraph_hash` of each paragraph, as a little-endian unsigned integer."""
    return [minhash.h64(k.encode("utf-8", "surrogatepass")) for k in paragraph_keys(paragraphs)]


def kept_hashes(paragraphs: Sequence[str], indexes: Sequence[int], keys: dict[int, bytes] | None) -> list[int]:
    """:func:`paragraph_hashes` of a cleaned document's kept ``paragraphs`` (input ``indexes``), from
    the exact-match keys the cleaning already made (``keys``, by input index) where it made them."""
    if keys is None or any(i not in keys for i in indexes):
        return paragraph_hashes(paragraphs)
    return [minhash.h64(keys[i]) for i in indexes]


def remove_repeats(
    doc_id: str,
    paragraphs: list[str | None],
    near: bool = True,
    near_threshold: float = 0.8,
    near_min_words: int = 8,
    min_words: int = 1,
    scope: str = "any",
    min_block: int = 2,
    keys: Sequence[str | bytes] | None = None,
) -> tuple[list[str | None], list[Removal]]:
    """Drop paragraphs that repeat an earlier kept paragraph of the same document.

    ``paragraphs`` holds None where an earlier stage already removed one; the
    indexes of removals are indexes into this list (the input paragraphs).
    Paragraphs of fewer than ``min_words`` words are never removed as repeats:
    short lines that recur in a page (table cells, code, "Pros"/"Cons", list
    labels) are structure, not repetition.

    ``scope="copies"`` removes only what a scraper's copying produces: a block of
    ``min_block`` or more consecutive paragraphs repeated in the same order, a paragraph
    repeated right after itself, or one repeated within
    the page's head (a headline printed twice). A question asked of every
    interviewee or a dish on every day of a meal plan stays.
    ``scope="any"`` removes every repeat.

    ``keys``: the exact-match keys of the present paragraphs, if already made (:func:`exact_keys`);
    else they are made here (:func:`paragraph_keys`).
    """
    out = list(paragraphs)
    removals: list[Removal] = []
    first_by_key: dict[str | bytes, int] = {}
    present = [i for i, p in enumerate(paragraphs) if p is not None]
    if keys is None:
        keys = paragraph_keys([paragraphs[i] for i in present])  # type: ignore[misc]
    for i, key in zip(present, keys, strict=True):
        p = paragraphs[i]
        if (min_words > 1 or not key) and minhash.word_count(
                key if isinstance(key, str) else key.decode("utf-8", "surrogatepass")) < min_words:
            continue  # (a non-empty key has a word)
        j = first_by_key.get(key)
        if j is None:
            first_by_key[key] = i
            continue
        out[i] = None
        removals.append(
            Removal(doc_id, i, p, "repeated_paragraph", "paragraph", 1, duplicate_of=doc_id,
                    duplicate_of_paragraph=j, similarity=1.0,
                    detail=f"repeats paragraph {j} of the same document")
        )
    if near:
        removals.extend(_near_repeats(doc_id, out, near_threshold, near_min_words))
        removals.sort(key=lambda r: r.paragraph_index or 0)
    if scope == "copies" and removals:
        removals = _only_copies(removals, out, paragraphs, min_block=min_block)
    return out, removals


def _only_copies(removals: list[Removal], out: list[str | None], paragraphs: list[str | None],
                 head: int = 5, max_prints: int = 3, min_block: int = 2) -> list[Removal]:
    """Keep the removals that look like a scraper's copy; put the other paragraphs back."""
    def follows(prev: Removal, r: Removal) -> bool:
        """Whether ``r`` repeats the paragraph right after the one ``prev`` repeats, right after ``prev``."""
        i, j = prev.paragraph_index, prev.duplicate_of_paragraph
        return (r.paragraph_index == _next_present(paragraphs, i, 1)  # type: ignore[arg-type]
                and r.duplicate_of_paragraph == _next_present(paragraphs, j, 1))  # type: ignore[arg-type]

    # Runs of consecutive repeats whose originals are consecutive too: the copied blocks. Removals
    # are in paragraph order and only at kept paragraphs, so a block's next copy is the next removal.
    runs: list[list[Removal]] = []
    for r in removals:
        if runs and follows(runs[-1][-1], r):
            runs[-1].append(r)
        else:
            runs.append([r])
    block_len = {x.paragraph_index: len(run) for run in runs for x in run}

    def in_block(r: Removal) -> bool:
        return block_len[r.paragraph_index] >= min_block

    # How often each original is printed: a scraper's copy prints a block two or three times; a
    # label that returns in every section of the page ("Meal 1", "Eat every 2-3 hours") is structure.
    copies = Counter(r.duplicate_of_paragraph for r in removals)
    kept = []
    for r in removals:
        i, j = r.paragraph_index, r.duplicate_of_paragraph
        assert i is not None and j is not None
        close = all(p is None for p in paragraphs[j + 1 : i])
        if close or i < head or (in_block(r) and copies[j] + 1 <= max_prints):
            kept.append(r)
        else:
            out[i] = r.text
    return kept


def _next_present(paragraphs: list[str | None], i: int, step: int) -> int:
    """Index of the next paragraph in direction ``step`` that an earlier stage kept."""
    i += step
    while 0 <= i < len(paragraphs) and paragraphs[i] is None:
        i += step
    return i


def _near_repeats(doc_id: str, out: list[str | None], threshold: float, min_words: int) -> list[Removal]:
    present = [i for i, p in enumerate(out) if p is not None]
    if len(present) < 2:
        return []
    th, offsets = minhash.texts_token_hashes([out[i] for i in present])  # type: ignore[misc]
    counts = np.diff(offsets)  # tokens (a character in Chinese or Japanese): how many shingles there are
    long_enough = counts >= min_words
    if int(long_enough.sum()) < 2:
        return []
    if not long_enough.all():
        th = th[np.repeat(long_enough, counts)]
        offsets = np.concatenate(([0], np.cumsum(counts[long_enough])))
    idx = [i for i, ok in zip(present, long_enough.tolist(), strict=True) if ok]
    pairs, sims, values, set_offsets = minhash.near_pairs(th, offsets, _SHINGLE, minhash.permutations(_NUM_PERM, 1),
                                                           _BANDS, _ROWS)
    if len(pairs) == 0:
        return []
    sets = [values[set_offsets[k]:set_offsets[k + 1]] for k in range(len(idx))]
    # For each later paragraph, the earliest earlier paragraph it nearly repeats.
    best: dict[int, tuple[int, float]] = {}
    for (a, b), sim in zip(pairs.tolist(), sims.tolist(), strict=True):
        if sim >= threshold and (b not in best or a < best[b][0]):
            best[b] = (a, sim)
    removals = []
    removed_rows: set[int] = set()
    for b in sorted(best):
        a, sim = best[b]
        if a in removed_rows:  # its original was itself a repeat: point at what that repeated
            while a in removed_rows:
                a = best[a][0]
            sim = minhash.exact_jaccard(sets[a], sets[b])
        i, j = idx[b], idx[a]
        p = out[i]
        assert p is not None
        out[i] = None
        removed_rows.add(b)
        removals.append(
            Removal(doc_id, i, p, "repeated_paragraph", "paragraph", 1, duplicate_of=doc_id,
                    duplicate_of_paragraph=j, similarity=round(sim, 4),
                    detail=f"near-repeat (Jaccard {sim:.2f}) of paragraph {j} of the same document")
        )
    return removals
