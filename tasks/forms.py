"""Exact-match keys and template forms of many paragraphs in one compiled pass.

Two normal forms of a paragraph decide what counts as "the same paragraph":

* its **exact-match key** (:func:`scrapewash.tasks.repeats.paragraph_key`): case folded, every run of
  ``[\\W_]`` one space, no space at the ends -- the key of in-page repeats and of duplicate
  paragraphs across documents;
* its **template form** (:func:`scrapewash.tasks.templates.template_form`): the same, with month and
  weekday names made "D" and every run of digits "0" -- the key of site templates.

Both are defined by regular expressions over ``str.casefold()``. :func:`keys_and_forms` computes
them for a list of paragraphs at once: the paragraphs are joined by NUL and their UTF-8 read by
:func:`_utf8_forms`, which case-folds and classes each character through one table of Unicode's
first four planes (:func:`_fold_table`) and writes both forms' UTF-8 as it goes. A paragraph holding
a character beyond those planes comes back marked, for the regular expressions to do. Equal to the
definitions (tested on every character of the table and on the evaluation sets).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numba
import numpy as np

# Per folded character: the flags below. Per input character: its case folding, one character in
# the low 24 bits, or (with _MULTI) the row of _fold_table's expansions.
_WORD, _DIGIT, _UNDER = 1, 2, 4
_MULTI = 1 << 31
_PLANES = 4  # the tables cover code points below 0x40000

# Month and weekday names (lower case, ASCII letters): the "D" of template forms, here and in the
# patterns of :mod:`scrapewash.tasks.templates`.
DATE_NAMES = ("january february march april may june july august september october november december "
              "jan feb mar apr jun jul aug sep sept oct nov dec "
              "monday tuesday wednesday thursday friday saturday sunday "
              "mon tue tues wed thu thur thurs fri sat sun").split()


def _pack(word: str) -> int:
    """A word of at most 12 lower-case ASCII letters as one number (5 bits a letter)."""
    v = 0
    for ch in word:
        v = (v << 5) | (ord(ch) - 0x60)
    return v


_DATE_CODES = np.array(sorted(_pack(w) for w in DATE_NAMES), dtype=np.int64)


@lru_cache(maxsize=1)
def _fold_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The case folding of each character of the first four planes (one character, or a row of
    ``expansions``: its length and up to three characters), ``expansions``, and the flags of each
    character as the patterns see it after folding: ``\\w`` (alphanumeric or "_"), ``\\d`` (a decimal
    digit), "_"."""
    size = _PLANES << 16
    fold = np.zeros(size, dtype=np.uint32)
    flags = np.zeros(size, dtype=np.uint8)
    rows: list[list[int]] = []
    for c in range(size):
        ch = chr(c)
        f = ch.casefold()
        if len(f) == 1:
            fold[c] = ord(f)
        else:
            fold[c] = _MULTI | len(rows)
            rows.append([len(f)] + [ord(x) for x in f] + [0] * (3 - len(f)))
        flags[c] = (_WORD if ch.isalnum() or ch == "_" else 0) | (_DIGIT if ch.isdecimal() else 0) | (
            _UNDER if ch == "_" else 0)
    expansions = np.array(rows, dtype=np.uint32).reshape(-1, 4)
    if expansions.shape[0] and (expansions[:, 1:] >= size).any():
        raise AssertionError("a case folding leaves the table's planes")
    return fold, expansions, flags


@numba.njit(cache=True, nogil=True, inline="always")
def _put(buf: np.ndarray, at: int, cp: int) -> int:  # pragma: no cover - compiled
    """Write the UTF-8 of ``cp`` at ``buf[at:]``; return the position after it."""
    if cp < 0x80:
        buf[at] = cp
        return at + 1
    if cp < 0x800:
        buf[at] = 0xC0 | (cp >> 6)
        buf[at + 1] = 0x80 | (cp & 0x3F)
        return at + 2
    if cp < 0x10000:
        buf[at] = 0xE0 | (cp >> 12)
        buf[at + 1] = 0x80 | ((cp >> 6) & 0x3F)
        buf[at + 2] = 0x80 | (cp & 0x3F)
        return at + 3
    buf[at] = 0xF0 | (cp >> 18)
    buf[at + 1] = 0x80 | ((cp >> 12) & 0x3F)
    buf[at + 2] = 0x80 | ((cp >> 6) & 0x3F)
    buf[at + 3] = 0x80 | (cp & 0x3F)
    return at + 4


@numba.njit(cache=True, nogil=True)
def _utf8_forms(data: np.ndarray, m: int, fold: np.ndarray, expansions: np.ndarray, flags: np.ndarray,
                date_codes: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """Exact-match keys and template forms of ``m`` paragraphs given as their UTF-8 joined by NUL:
    both as UTF-8 with offsets, and which paragraphs hold a character beyond the tables (their
    forms are left empty)."""
    n = data.shape[0]
    cap = 3 * n + 16  # a character's folding has at most three characters, of at most its bytes each
    keys = np.empty(cap, dtype=np.uint8)
    forms = np.empty(cap, dtype=np.uint8)
    koff = np.zeros(m + 1, dtype=np.int64)
    foff = np.zeros(m + 1, dtype=np.int64)
    other = np.zeros(m, dtype=np.bool_)
    size = fold.shape[0]
    kp = 0
    fp = 0
    t = 0
    kstart = 0  # this paragraph's first byte in keys / forms
    fstart = 0
    # State of the \w run being read: its first byte in forms (a date name is written over it), its
    # letters packed while it may still be a date name, whether the key and the form are inside a
    # word (between "_" and non-word characters), whether the form's last character is a folded
    # digit run.
    in_run = False
    run_at = 0
    packed = 0
    run_len = 0
    maybe_date = False
    in_kword = False
    in_fword = False
    in_digits = False
    expansion = np.zeros(3, dtype=np.int64)
    i = 0
    while i <= n:
        # the next input character (a NUL at the end of the data closes the last paragraph)
        if i == n:
            cp = 0
            i += 1
        else:
            b = data[i]
            if b < 0x80:
                cp = b
                i += 1
            # The same decoding as minhash._utf8_token_hashes, written out here on purpose: numba's
            # cache is checked against the file of the cached function only, so a helper shared
            # from the other module, once edited, would leave this pass compiled with its old copy.
            elif b >= 0xF0:
                cp = (((b & 0x07) << 18) | ((data[i + 1] & 0x3F) << 12) | ((data[i + 2] & 0x3F) << 6)
                      | (data[i + 3] & 0x3F))
                i += 4
            elif b >= 0xE0:
                cp = ((b & 0x0F) << 12) | ((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F)
                i += 3
            else:
                cp = ((b & 0x1F) << 6) | (data[i + 1] & 0x3F)
                i += 2
        if cp >= size:  # beyond the tables: this paragraph is done elsewhere; skip to its end
            other[t] = True
            while i < n and data[i] != 0:
                i += 1
            continue
        # its case folding: one character, or up to three
        f = fold[cp]
        count = 1
        if f & 0x80000000:
            row = f & 0x7FFFFFFF
            count = expansions[row, 0]
            for q in range(count):
                expansion[q] = expansions[row, 1 + q]
        else:
            expansion[0] = f
        for q in range(count):
            c = expansion[q]
            fl = flags[c]
            if fl & 1:  # \w: the run goes on
                if not in_run:
                    in_run = True
                    run_at = fp
                    packed = 0
                    run_len = 0
                    maybe_date = True
                    if fp > fstart:  # the form's words are joined by one space
                        forms[fp] = 0x20
                        fp += 1
                        run_at = fp
                if maybe_date:
                    if 0x61 <= c <= 0x7A and run_len < 12:
                        packed = (packed << 5) | (c - 0x60)
                        run_len += 1
                    else:
                        maybe_date = False
                if fl & 4:  # "_": a word's end in both forms
                    in_kword = False
                    in_fword = False
                    in_digits = False
                    continue
                if not in_kword:
                    if kp > kstart:
                        keys[kp] = 0x20
                        kp += 1
                    in_kword = True
                kp = _put(keys, kp, c)
                if not in_fword:
                    if fp > run_at:  # a word after "_" inside the run
                        forms[fp] = 0x20
                        fp += 1
                    in_fword = True
                if fl & 2:  # a run of digits is one "0"
                    if not in_digits:
                        forms[fp] = 0x30
                        fp += 1
                        in_digits = True
                else:
                    in_digits = False
                    fp = _put(forms, fp, c)
                continue
            # not \w: the run and both words end
            if in_run:
                if maybe_date and run_len > 0:
                    lo = 0
                    hi = date_codes.shape[0]
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if date_codes[mid] < packed:
                            lo = mid + 1
                        else:
                            hi = mid
                    if lo < date_codes.shape[0] and date_codes[lo] == packed:
                        fp = run_at
                        forms[fp] = 0x44  # "D"
                        fp += 1
                if fp == run_at and run_at > fstart:  # the run left no word (only "_"): no space
                    fp -= 1
                in_run = False
            in_kword = False
            in_fword = False
            in_digits = False
            if c == 0 and cp == 0:  # the end of paragraph t
                koff[t + 1] = kp
                foff[t + 1] = fp
                if other[t]:
                    kp = kstart
                    fp = fstart
                    koff[t + 1] = kp
                    foff[t + 1] = fp
                t += 1
                kstart = kp
                fstart = fp
                if t == m:
                    break
    return keys[:kp].copy(), koff, forms[:fp].copy(), foff, other


def keys_and_forms(paragraphs: Sequence[str]) -> tuple[list[bytes], list[bytes], list[int]] | None:
    """The UTF-8 of each paragraph's exact-match key (``b""`` where it has no word character: the key
    is then the stripped paragraph itself) and template form, and the positions of the paragraphs
    the tables cannot read (their entries are ``b""``; the caller forms them with the patterns).
    None when a paragraph holds NUL."""
    m = len(paragraphs)
    if m == 0:
        return [], [], []
    joined = "\x00".join(paragraphs)
    if joined.count("\x00") != m - 1:
        return None
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    fold, expansions, flags = _fold_table()
    kbuf, koff, fbuf, foff, other = _utf8_forms(data, m, fold, expansions, flags, _DATE_CODES)
    kb, fb = kbuf.tobytes(), fbuf.tobytes()
    ko, fo = koff.tolist(), foff.tolist()
    keys = [kb[ko[i]:ko[i + 1]] for i in range(m)]
    forms = [fb[fo[i]:fo[i + 1]] for i in range(m)]
    return keys, forms, np.flatnonzero(other).tolist()
