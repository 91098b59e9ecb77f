"""MinHash signatures over word shingles, vectorised with numpy.

The signatures are bit-identical to ``datasketch.MinHash(scheme="affine32")``
fed with the same shingles through :func:`shingle_hash32` as ``hashfunc``
(tested), so rows can be handed to ``datasketch.LeanMinHash`` and
``MinHashLSH``. What differs is speed: one vectorised pass per document (or per
batch of paragraphs) instead of one Python call per shingle.

Shingles are runs of ``n`` consecutive lower-cased ``\\w+`` tokens. A token is
hashed with CRC-32; a shingle's 32-bit hash folds its token hashes with an
FNV-style multiply-xor, so it is computed for all positions at once.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

_WORD_RE = re.compile(r"\w+")
_FOLD = np.uint32(0x01000193)
_MAX32 = np.uint32(0xFFFFFFFF)
_CHUNK_ROWS = 4096


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (``\\w+`` runs)."""
    return _WORD_RE.findall(text.lower())


def token_hashes(toks: Sequence[str]) -> np.ndarray:
    """CRC-32 of each token's UTF-8 bytes, as uint32.

    The tokens are encoded in one call and split on NUL (which no ``\\w`` token holds), so the
    loop over tokens runs in C.
    """
    if not toks:
        return np.empty(0, dtype=np.uint32)
    joined = "\x00".join(toks)
    if joined.count("\x00") != len(toks) - 1:  # a token holding NUL: one at a time
        return np.fromiter((zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in toks),
                           dtype=np.uint32, count=len(toks))
    parts = joined.encode("utf-8", "surrogatepass").split(b"\x00")
    return np.fromiter(map(zlib.crc32, parts), dtype=np.uint32, count=len(toks))


# Characters that are no ``\\w`` and common in text that is otherwise ASCII: typographic quotes,
# dashes, the ellipsis, no-break space, bullets, © and ®. Blanked, they let :func:`text_token_hashes`
# take its bytes path.
_NON_WORD_TYPOGRAPHY = "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2022\u00b7\u00a9\u00ae"
_BLANK_NON_WORD = bytes(c if (chr(c).isalnum() or c == 0x5F) else 0x20 for c in range(256))


def text_token_hashes(text: str) -> np.ndarray:
    """``token_hashes(tokens(text))``, computed without making the tokens where the lower-cased
    text is ASCII once typographic punctuation is blanked: then a token is a run of ASCII letters,
    digits and "_", cut out and hashed (CRC-32) by compiled code over the bytes (tested equal)."""
    s = text.lower()
    if not s.isascii():
        for ch in _NON_WORD_TYPOGRAPHY:
            if ch in s:
                s = s.replace(ch, " ")
        if not s.isascii():
            return token_hashes(_WORD_RE.findall(text.lower()))
    raw = np.frombuffer(s.encode("ascii").translate(_BLANK_NON_WORD), dtype=np.uint8)
    return _crc32_runs(raw, _CRC_TABLE)


def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table[i] = c
    return table


_CRC_TABLE = _crc_table()  # zlib's CRC-32 (reflected 0xEDB88320)


@numba.njit(cache=True, nogil=True)
def _crc32_runs(raw: np.ndarray, table: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """CRC-32 of every maximal run of non-space bytes (0x20 separates)."""
    n = raw.shape[0]
    out = np.empty(n // 2 + 1, dtype=np.uint32)
    m = 0
    i = 0
    while i < n:
        if raw[i] == 0x20:
            i += 1
            continue
        c = np.uint32(0xFFFFFFFF)
        while i < n and raw[i] != 0x20:
            c = table[(c ^ np.uint32(raw[i])) & np.uint32(0xFF)] ^ (c >> np.uint32(8))
            i += 1
        out[m] = c ^ np.uint32(0xFFFFFFFF)
        m += 1
    return out[:m].copy()


def shingle_sets(token_lists: Sequence[Sequence[str]], n: int) -> list[np.ndarray]:
    """:func:`shingle_set` of each token list, computed in one pass over all of them."""
    if not token_lists:
        return []
    lens = [len(t) for t in token_lists]
    th = token_hashes([t for toks in token_lists for t in toks])
    return hash_shingle_sets(np.split(th, np.cumsum(lens)[:-1]), n)


def hash_shingle_sets(hash_lists: Sequence[np.ndarray], n: int) -> list[np.ndarray]:
    """:func:`shingle_set` of each list of token hashes, computed in one pass over all of them."""
    m = len(hash_lists)
    if m == 0:
        return []
    lens = np.fromiter(map(len, hash_lists), dtype=np.int64, count=m)
    if lens.min() < n or m == 1:  # short lists have the one-shingle rule: take them one by one
        return [np.unique(shingle_hashes(np.asarray(h, dtype=np.uint32), n)) for h in hash_lists]
    th = np.concatenate(hash_lists).astype(np.uint32, copy=False)
    h = shingle_hashes(th, n)  # over the concatenation: drop the shingles that cross a boundary
    starts = np.concatenate(([0], np.cumsum(lens)[:-1]))
    counts = lens - n + 1
    pid = np.repeat(np.arange(m, dtype=np.uint64), counts)
    pos = np.concatenate([np.arange(s, s + c) for s, c in zip(starts.tolist(), counts.tolist(), strict=True)])
    keys = np.unique((pid << np.uint64(32)) | h[pos].astype(np.uint64))
    owner = keys >> np.uint64(32)
    cuts = np.searchsorted(owner, np.arange(1, m, dtype=np.uint64))
    return [part.astype(np.uint32) for part in np.split(keys & np.uint64(0xFFFFFFFF), cuts)]


def shingle_hashes(th: np.ndarray, n: int) -> np.ndarray:
    """32-bit hashes of all n-token shingles of a token-hash array.

    A text with fewer than ``n`` (but at least one) tokens has one shingle: all
    of its tokens.
    """
    length = len(th)
    if length == 0:
        return np.empty(0, dtype=np.uint32)
    k = min(n, length)
    m = length - k + 1
    h = th[:m].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            h *= _FOLD
            h ^= th[j : j + m]
    return h


def shingle_set(toks: Sequence[str], n: int) -> np.ndarray:
    """Distinct n-token shingle hashes of a token list (the set MinHash and Jaccard are taken over)."""
    return np.unique(shingle_hashes(token_hashes(toks), n))


def shingle_hash32(shingle: Sequence[str]) -> int:
    """The hash of one shingle (a sequence of tokens), in plain Python.

    The scalar twin of :func:`shingle_hashes`; pass it to datasketch as
    ``hashfunc`` to reproduce this module's signatures.
    """
    it = iter(shingle)
    h = zlib.crc32(next(it).encode("utf-8", "surrogatepass"))
    for t in it:
        h = ((h * 0x01000193) & 0xFFFFFFFF) ^ zlib.crc32(t.encode("utf-8", "surrogatepass"))
    return h


def shingles(toks: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """The shingles themselves (for datasketch, tests and exact Jaccard)."""
    if not toks:
        return []
    k = min(n, len(toks))
    return [tuple(toks[i : i + k]) for i in range(len(toks) - k + 1)]


@dataclass(frozen=True)
class Permutations:
    """The affine32 permutations of ``datasketch.MinHash(num_perm, seed)``."""

    num_perm: int
    seed: int
    a: np.ndarray
    b: np.ndarray


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int = 1) -> Permutations:
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return Permutations(num_perm, seed, a, b)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix of the input hash)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        return h ^ (h >> np.uint32(16))


def signature(sh: np.ndarray, perms: Permutations) -> np.ndarray:
    """MinHash signature (uint32[num_perm]) of a set of shingle hashes."""
    out = np.full((1, perms.num_perm), _MAX32, dtype=np.uint32)
    if len(sh) == 0:
        return out[0]
    hv = fmix32(np.asarray(sh, dtype=np.uint32))  # a repeated value cannot change a minimum
    _min_rows(hv, np.array([0, len(hv)], dtype=np.int64), perms.a, perms.b, out)
    return out[0]


def signatures(sets: Sequence[np.ndarray], perms: Permutations) -> np.ndarray:
    """Signatures of several shingle-hash sets at once: uint32[len(sets), num_perm].

    Empty sets get the all-max signature (datasketch's empty MinHash). The permutations and the
    minimum run in one compiled loop (:func:`_min_rows`); :func:`signatures_reference` is the same
    in numpy.
    """
    out = np.full((len(sets), perms.num_perm), _MAX32, dtype=np.uint32)
    sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    if int(sizes.sum()) == 0:
        return out
    hv = fmix32(np.concatenate([np.asarray(s, dtype=np.uint32) for s in sets]))
    starts = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    _min_rows(hv, starts, perms.a, perms.b, out)
    return out


@numba.njit(cache=True, nogil=True)
def _min_rows(hv: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray,
              out: np.ndarray) -> None:  # pragma: no cover - compiled
    """out[i, j] = min over set i's values h of (a[j] * h + b[j]) mod 2**32 (uint32 arithmetic)."""
    mask = np.uint64(0xFFFFFFFF)
    k = a.shape[0]
    a64 = a.astype(np.uint64)
    b64 = b.astype(np.uint64)
    for i in range(out.shape[0]):
        row = out[i]
        for t in range(starts[i], starts[i + 1]):
            h = np.uint64(hv[t])
            for j in range(k):
                v = np.uint32((h * a64[j] + b64[j]) & mask)
                if v < row[j]:
                    row[j] = v


def signatures_reference(sets: Sequence[np.ndarray], perms: Permutations) -> np.ndarray:
    """:func:`signatures` in numpy alone."""
    out = np.full((len(sets), perms.num_perm), _MAX32, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i, s in enumerate(sets):
            if len(s):
                hv = fmix32(np.asarray(s, dtype=np.uint32))
                for start in range(0, len(hv), _CHUNK_ROWS):
                    block = hv[start : start + _CHUNK_ROWS, None] * perms.a + perms.b
                    np.minimum(out[i], block.min(axis=0), out=out[i])
    return out


def estimate_jaccard(s1: np.ndarray, s2: np.ndarray) -> np.ndarray | float:
    """Share of equal signature values (rows of 2-D arrays compared pairwise)."""
    eq = s1 == s2
    return eq.mean(axis=-1)


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two shingle-hash sets."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    a = np.unique(a)
    b = np.unique(b)
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 key per (document, band): a hash of the band's ``rows`` values.

    Shape ``[n, bands]``. Two documents share a key in a band exactly when
    their signatures agree on that band (up to 64-bit hash collisions, which
    later verification removes).
    """
    n = sigs.shape[0]
    s = sigs[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = np.full((n, bands), np.uint64(0xCBF29CE484222325), dtype=np.uint64)
        for r in range(rows):
            key ^= s[:, :, r]
            key *= np.uint64(0x100000001B3)
            key ^= key >> np.uint64(29)
        key += np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return key


def candidate_pairs(keys: np.ndarray) -> np.ndarray:
    """Candidate pairs ``[m, 2]`` (row indices, i < j) of rows sharing a band key.

    Keys are grouped in bulk with a sort, one band at a time (a band's keys never equal another
    band's: :func:`band_keys` offsets them), so the memory at work is a few arrays of one band's
    length. Within a bucket (rows ascending) each row is paired with the bucket's first row and with
    its predecessor; that is enough for union-find to join every verified cluster.
    """
    n, bands = keys.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    found = []
    for band in range(bands):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")  # rows ascending within a bucket
        k = col[order]
        same = k[1:] == k[:-1]
        if not same.any():
            continue
        r = order
        prev = np.stack([r[:-1][same], r[1:][same]], axis=1)
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        bucket_first = np.repeat(r[starts], np.diff(np.concatenate((starts, [n]))))
        firsts = np.stack([bucket_first[1:][same], r[1:][same]], axis=1)
        found.append(prev)
        found.append(firsts)
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64, copy=False)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs.sort(axis=1)
    return np.unique(pairs, axis=0)


def candidate_pairs_reference(keys: np.ndarray) -> np.ndarray:
    """:func:`candidate_pairs` over all bands' keys in one sort (more memory; the reference)."""
    n, bands = keys.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    flat = keys.ravel()
    rows = np.repeat(np.arange(n, dtype=np.int64), bands)
    order = np.lexsort((rows, flat))
    k = flat[order]
    r = rows[order]
    same = k[1:] == k[:-1]
    if not same.any():
        return np.empty((0, 2), dtype=np.int64)
    prev = np.stack([r[:-1][same], r[1:][same]], axis=1)
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    bucket_first = np.repeat(r[starts], np.diff(np.concatenate((starts, [len(k)]))))
    firsts = np.stack([bucket_first[1:][same], r[1:][same]], axis=1)
    pairs = np.concatenate([prev, firsts])
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs.sort(axis=1)
    return np.unique(pairs, axis=0)
