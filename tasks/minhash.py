"""MinHash signatures over word shingles, vectorised with numpy.

The signatures are bit-identical to ``datasketch.MinHash(scheme="affine32")``
fed with the same shingles through :func:`shingle_hash32` as ``hashfunc``
(tested), so rows can be handed to ``datasketch.LeanMinHash`` and
``MinHashLSH``. What differs is speed: one vectorised pass per document (or per
batch of paragraphs) instead of one Python call per shingle.

Shingles are runs of ``n`` consecutive lower-cased tokens: ``\\w+`` runs, except that in scripts
written without spaces between words (Chinese characters, Japanese kana, Thai, Lao, Khmer, Myanmar)
every word character is a token of its own, so shingles there are character n-grams (a ``\\w+`` run of
Chinese is a whole clause, and one changed character would change every shingle it is in). A token is
hashed with CRC-32; a shingle's 32-bit hash folds its token hashes with an
FNV-style multiply-xor, so it is computed for all positions at once.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

#: Scripts written without spaces between words: Japanese kana (and their phonetic extensions and
#: half-width forms), CJK ideographs (unified, extension A, compatibility, the supplementary planes),
#: and Thai, Lao, Myanmar and Khmer. The line model counts one word per two characters of the first
#: six ranges (:func:`scrapewash.tasks.content.unspaced_words`).
UNSPACED_RANGES = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                   (0xFF66, 0xFF9F), (0x20000, 0x3134F))
CHAR_TOKEN_RANGES = UNSPACED_RANGES + ((0x0E00, 0x0E7F), (0x0E80, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF))
_CHAR_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CHAR_TOKEN_RANGES)
#: One word character of those scripts, or a run of other word characters.
_TOKEN_RE = re.compile(f"(?=\\w)[{_CHAR_CLASS}]|[^\\W{_CHAR_CLASS}]+")
_CHAR_TOKEN_RE = re.compile(f"(?=\\w)[{_CHAR_CLASS}]")
_FOLD = np.uint32(0x01000193)
_MAX32 = np.uint32(0xFFFFFFFF)
_CHUNK_ROWS = 4096


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens: ``\\w+`` runs, each word character of a script written without spaces
    (:data:`CHAR_TOKEN_RANGES`) a token of its own."""
    return _TOKEN_RE.findall(text.lower())


# The UTF-8 lead bytes of the characters of CHAR_TOKEN_RANGES (a lead byte grows with the code point
# among characters of one UTF-8 length, and each range keeps to one length): E0, E1, E3-E9, EF, F0 --
# not E2, the punctuation block U+2000-U+2FFF (curly quotes, dashes), nor EA-ED (Korean). A text
# without any of them has no single-character tokens.
_CHAR_TOKEN_LEADS = tuple(bytes([b]) for b in sorted({b for lo, hi in CHAR_TOKEN_RANGES
                                                      for b in range(chr(lo).encode()[0], chr(hi).encode()[0] + 1)}))


def may_have_char_tokens(text: str) -> bool:
    """False if ``text`` certainly has no character of :data:`CHAR_TOKEN_RANGES` (a few byte searches
    of its UTF-8, several times faster than a regex); True if it may have one."""
    if text.isascii():
        return False
    raw = text.encode("utf-8", "surrogatepass")
    return any(lead in raw for lead in _CHAR_TOKEN_LEADS)


def char_tokens(text: str) -> int:
    """How many of ``text``'s tokens are single characters of a script written without spaces."""
    return len(_CHAR_TOKEN_RE.findall(text)) if may_have_char_tokens(text) else 0


def word_count(text: str) -> int:
    """Words of ``text`` for the "too short to judge" thresholds: whitespace-separated words, plus one
    word per two characters of scripts written without spaces (so a Chinese sentence counts about as
    many words as its translation; the line model counts Chinese and Japanese the same way)."""
    return len(text.split()) + char_tokens(text) // 2


def word_counts(texts: Sequence[str]) -> list[int]:
    """:func:`word_count` of each text (one check of them all first: most pages have none of those
    scripts)."""
    counts = [len(t.split()) for t in texts]
    other = [i for i, t in enumerate(texts) if not t.isascii()]
    if other and may_have_char_tokens("".join([texts[i] for i in other])):
        for i in other:
            counts[i] += char_tokens(texts[i]) // 2
    return counts


def h64(data: bytes) -> int:
    """A stable 64-bit hash of ``data``: BLAKE2b with an 8-byte digest, read little-endian (the
    template keys and the paragraphs' exact-key hashes)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


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
BLANK_NON_WORD = bytes(c if (chr(c).isalnum() or c == 0x5F) else 0x20 for c in range(256))  # bytes.translate


def ascii_without_typography(s: str) -> str | None:
    """``s`` with its typographic punctuation (no ``\\w``) turned into spaces, if that leaves it ASCII;
    else None. The byte paths of token hashes, exact-match and template forms start here."""
    if s.isascii():
        return s
    for ch in _NON_WORD_TYPOGRAPHY:
        if ch in s:
            s = s.replace(ch, " ")
    return s if s.isascii() else None


def text_token_hashes(text: str) -> np.ndarray:
    """``token_hashes(tokens(text))``, computed without making the tokens where the lower-cased
    text is ASCII once typographic punctuation is blanked: then a token is a run of ASCII letters,
    digits and "_", cut out and hashed (CRC-32) by compiled code over the bytes (tested equal)."""
    s = ascii_without_typography(text.lower())
    if s is None:
        return token_hashes(tokens(text))
    raw = np.frombuffer(s.encode("ascii").translate(BLANK_NON_WORD), dtype=np.uint8)
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


def _crc32_runs(raw: np.ndarray, table: np.ndarray) -> np.ndarray:
    """CRC-32 of every maximal run of non-space bytes (0x20 separates)."""
    return _crc32_runs_split(raw, table, np.array([0, raw.shape[0]], dtype=np.int64))[0]


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
    """Candidate pairs ``[m, 2]`` (row indices, i < j, sorted, distinct) of rows sharing a band key.

    Keys are grouped in bulk, one band at a time, in one compiled pass over the rows (ascending)
    with an open-addressing table of the band's keys: no per-item inserts into Python structures, no
    sort, and the memory at work is a table of 24 to 48 bytes per row (a band's keys never equal
    another band's: :func:`band_keys` offsets them). Within a bucket each row is paired with the
    bucket's first row and with its predecessor; that is enough for union-find to join every
    verified cluster. Equal to :func:`candidate_pairs_reference` (tested).
    """
    n, bands = keys.shape
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    if n >= 1 << 31:
        raise ValueError(f"too many rows to pair ({n}); at most {(1 << 31) - 1}")
    codes = _bucket_pair_codes(np.ascontiguousarray(keys, dtype=np.uint64))
    if not len(codes):
        return np.empty((0, 2), dtype=np.int64)
    codes = np.unique(codes)  # (i << 32 | j), so sorted codes are pairs sorted by (i, j)
    return np.stack([codes >> 32, codes & 0xFFFFFFFF], axis=1)


@numba.njit(cache=True, nogil=True)
def _bucket_pair_codes(keys: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    n, bands = keys.shape
    size, bits = 4, 2
    while 2 * size < 3 * n:  # at most two thirds full
        size *= 2
        bits += 1
    mask = size - 1
    shift = np.uint64(64 - bits)
    tkey = np.empty(size, dtype=np.uint64)
    tfirst = np.empty(size, dtype=np.int32)  # rows < 2**31 (checked by the caller)
    tlast = np.empty(size, dtype=np.int32)
    out = np.empty(max(16, n), dtype=np.int64)
    m = 0
    golden = np.uint64(0x9E3779B97F4A7C15)
    for band in range(bands):
        tfirst[:] = -1
        for r in range(n):
            k = keys[r, band]
            h = int((k * golden) >> shift) & mask
            while tfirst[h] != -1 and tkey[h] != k:
                h = (h + 1) & mask
            if tfirst[h] == -1:
                tkey[h] = k
                tfirst[h] = r
                tlast[h] = r
                continue
            if m + 2 > out.shape[0]:
                grown = np.empty(out.shape[0] * 2, dtype=np.int64)
                grown[:m] = out[:m]
                out = grown
            f = np.int64(tfirst[h])
            out[m] = (f << 32) | r
            m += 1
            last = np.int64(tlast[h])
            if last != f:
                out[m] = (last << 32) | r
                m += 1
            tlast[h] = r
    return out[:m]


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


def texts_token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`text_token_hashes` of several texts at once: all hashes concatenated, and offsets
    (``hashes[offsets[i]:offsets[i + 1]]`` are text ``i``'s).

    The texts are joined by NUL and their UTF-8 read in one compiled pass
    (:func:`_utf8_token_hashes`): each character is lower-cased and classed as it is read, by a table of
    Unicode's first four planes (:func:`_token_table`: every script, emoji and Chinese characters of
    the supplementary planes included), and the tokens' UTF-8 hashed as they grow. A text holding a
    character beyond those planes, or one whose lower case is not one character on its own (İ, and
    Σ, which Python lower-cases by what follows it), is left to :func:`text_token_hashes`. Equal to :func:`texts_token_hashes_reference` (tested)."""
    m = len(texts)
    if m == 0:
        return np.empty(0, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    joined = "\x00".join(texts)
    if joined.count("\x00") != m - 1:  # a text holding NUL: the texts' bounds are not the NULs
        return texts_token_hashes_reference(texts)
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    th, offsets, other = _utf8_token_hashes(data, m, _ASCII_TOKEN_BYTES, _token_table(), _CRC_TABLE)
    if not other.any():
        return th, offsets
    parts = [text_token_hashes(texts[i]) if other[i] else th[offsets[i]:offsets[i + 1]] for i in range(m)]
    offsets = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=m), out=offsets[1:])
    return np.concatenate(parts), offsets


# An ASCII byte as the token pass reads it: letters lower-cased, letters, digits and "_" kept (the
# ASCII ``\w``), every other byte a space (a token's end).
_ASCII_TOKEN_BYTES = np.array([ord(chr(c).lower()) if (chr(c).isalnum() or c == 0x5F) else 0x20 for c in range(128)],
                              dtype=np.uint8)
_KIND_SHIFT = 24  # _token_table: the lower-cased code point in the low bits, the kind above
_KIND_OTHER, _KIND_RUN, _KIND_SINGLE, _KIND_ELSEWHERE = 0, 1, 2, 3


_TABLE_PLANES = 4  # the table covers code points below 0x40000


@lru_cache(maxsize=1)
def _token_table() -> np.ndarray:
    """How :func:`tokens` reads each character of Unicode's first four planes: its lower case (one
    character) and its kind -- not a word character (a token's end), a word character of a run, a
    token of its own (a word character of :data:`CHAR_TOKEN_RANGES`), or to be read elsewhere (İ,
    which lower-cases to two characters, and Σ, whose lower case depends on what follows it)."""
    size = _TABLE_PLANES << 16
    out = np.zeros(size, dtype=np.uint32)
    single = np.zeros(size, dtype=np.bool_)
    for lo, hi in CHAR_TOKEN_RANGES:
        single[lo:min(hi, size - 1) + 1] = True
    for c in range(size):
        low = chr(c).lower()
        if len(low) != 1 or c == 0x03A3 or ord(low) >= size:
            out[c] = _KIND_ELSEWHERE << _KIND_SHIFT
            continue
        lc = ord(low)
        word = low.isalnum() or low == "_"  # what ``\w`` matches in a str pattern
        kind = _KIND_OTHER if not word else _KIND_SINGLE if single[lc] else _KIND_RUN
        out[c] = (kind << _KIND_SHIFT) | lc
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _crc_utf8(c: np.uint32, cp: int, table: np.ndarray) -> np.uint32:  # pragma: no cover - compiled
    """The CRC-32 state ``c`` carried over the UTF-8 bytes of the character ``cp``."""
    low = np.uint32(0xFF)
    eight = np.uint32(8)
    if cp < 0x80:
        return table[(c ^ np.uint32(cp)) & low] ^ (c >> eight)
    if cp < 0x800:
        c = table[(c ^ np.uint32(0xC0 | (cp >> 6))) & low] ^ (c >> eight)
        return table[(c ^ np.uint32(0x80 | (cp & 0x3F))) & low] ^ (c >> eight)
    if cp < 0x10000:
        c = table[(c ^ np.uint32(0xE0 | (cp >> 12))) & low] ^ (c >> eight)
    else:
        c = table[(c ^ np.uint32(0xF0 | (cp >> 18))) & low] ^ (c >> eight)
        c = table[(c ^ np.uint32(0x80 | ((cp >> 12) & 0x3F))) & low] ^ (c >> eight)
    c = table[(c ^ np.uint32(0x80 | ((cp >> 6) & 0x3F))) & low] ^ (c >> eight)
    return table[(c ^ np.uint32(0x80 | (cp & 0x3F))) & low] ^ (c >> eight)


@numba.njit(cache=True, nogil=True)
def _utf8_token_hashes(data: np.ndarray, m: int, ascii_map: np.ndarray, kinds: np.ndarray,
                       table: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """Token hashes of ``m`` texts given as their UTF-8 joined by NUL: hashes, offsets, and which
    texts are to be read elsewhere (their tokens are left out: their offsets enclose none).
    ``ascii_map``: :data:`_ASCII_TOKEN_BYTES`; ``kinds``: :func:`_token_table`."""
    n = data.shape[0]
    out = np.empty(n // 2 + 1, dtype=np.uint32)
    offsets = np.zeros(m + 1, dtype=np.int64)
    other = np.zeros(m, dtype=np.bool_)
    full = np.uint32(0xFFFFFFFF)
    low = np.uint32(0xFF)
    eight = np.uint32(8)
    k = 0
    t = 0
    first = 0  # this text's first hash in out
    c = full
    in_token = False
    i = 0
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            v = ascii_map[b]
            if v != 0x20:
                if not in_token:
                    c = full
                    in_token = True
                c = table[(c ^ np.uint32(v)) & low] ^ (c >> eight)
                continue
            if in_token:
                out[k] = c ^ full
                k += 1
                in_token = False
            if b == 0:  # the end of text t
                offsets[t + 1] = k
                t += 1
                first = k
            continue
        # a character of two to four bytes (surrogates, encoded with "surrogatepass", take three);
        # forms._utf8_forms decodes alike, in its own copy (numba's cache follows one file)
        if b >= 0xF0:
            cp = (((b & 0x07) << 18) | ((data[i + 1] & 0x3F) << 12) | ((data[i + 2] & 0x3F) << 6)
                  | (data[i + 3] & 0x3F))
            i += 4
        elif b >= 0xE0:
            cp = ((b & 0x0F) << 12) | ((data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F)
            i += 3
        else:
            cp = ((b & 0x1F) << 6) | (data[i + 1] & 0x3F)
            i += 2
        kind = 3
        lc = 0
        if cp < kinds.shape[0]:
            entry = kinds[cp]
            kind = entry >> 24
            lc = entry & 0xFFFFFF
        if kind == 1:  # a word character of a run
            if not in_token:
                c = full
                in_token = True
            c = _crc_utf8(c, lc, table)
            continue
        if kind == 0 or kind == 2:  # a token's end; a token of its own
            if in_token:
                out[k] = c ^ full
                k += 1
                in_token = False
            if kind == 2:
                out[k] = _crc_utf8(full, lc, table) ^ full
                k += 1
            continue
        # Beyond the table, İ or Σ: this text is read elsewhere; drop its hashes, skip to its end.
        other[t] = True
        in_token = False
        k = first
        while i < n and data[i] != 0:
            i += 1
    if in_token:
        out[k] = c ^ full
        k += 1
    offsets[t + 1] = k
    return out[:k].copy(), offsets, other


def texts_token_hashes_reference(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`texts_token_hashes` by lower-casing and blanking each text in Python first (the texts
    that are ASCII then are cut and hashed in one compiled pass, the others one by one)."""
    m = len(texts)
    blanked = [ascii_without_typography(t.lower()) for t in texts]
    fast = [i for i, b in enumerate(blanked) if b is not None]
    if len(fast) == m:
        return _ascii_token_hashes(blanked)  # type: ignore[arg-type]
    parts: list[np.ndarray] = [None] * m  # type: ignore[list-item]
    if len(fast) > 1:
        fth, foff = _ascii_token_hashes([blanked[i] for i in fast])  # type: ignore[misc]
        for k, i in enumerate(fast):
            parts[i] = fth[foff[k]:foff[k + 1]]
    for i in range(m):
        if parts[i] is None:
            parts[i] = text_token_hashes(texts[i])
    offsets = np.zeros(m + 1, dtype=np.int64)
    if m:
        np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=m), out=offsets[1:])
    return (np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)), offsets


def _ascii_token_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token hashes of lower-cased ASCII texts, joined and cut in one compiled pass."""
    m = len(texts)
    bounds = np.zeros(m + 1, dtype=np.int64)
    if m:
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=m) + 1, out=bounds[1:])
    raw = np.frombuffer("\n".join(texts).encode("ascii").translate(BLANK_NON_WORD), dtype=np.uint8)
    return _crc32_runs_split(raw, _CRC_TABLE, bounds)


@numba.njit(cache=True, nogil=True)
def _crc32_runs_split(raw: np.ndarray, table: np.ndarray, bounds: np.ndarray) -> tuple:  # pragma: no cover
    """:func:`_crc32_runs` of each text ``raw[bounds[i]:bounds[i + 1]]``: hashes and offsets."""
    m = bounds.shape[0] - 1
    out = np.empty(raw.shape[0] // 2 + 1, dtype=np.uint32)
    offsets = np.zeros(m + 1, dtype=np.int64)
    k = 0
    for t in range(m):
        i = bounds[t]
        end = min(bounds[t + 1], raw.shape[0])
        while i < end:
            if raw[i] == 0x20:
                i += 1
                continue
            c = np.uint32(0xFFFFFFFF)
            while i < end and raw[i] != 0x20:
                c = table[(c ^ np.uint32(raw[i])) & np.uint32(0xFF)] ^ (c >> np.uint32(8))
                i += 1
            out[k] = c ^ np.uint32(0xFFFFFFFF)
            k += 1
        offsets[t + 1] = k
    return out[:k].copy(), offsets


def near_pairs(th: np.ndarray, offsets: np.ndarray, n: int, perms: Permutations, bands: int,
               rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Near-duplicate candidates among a few texts given as token hashes, with their exact Jaccard.

    The same as :func:`hash_shingle_sets`, :func:`signatures`, :func:`band_keys`,
    :func:`candidate_pairs` and :func:`exact_jaccard` one after the other (tested equal), in one
    compiled call: for the paragraphs of one page, where the numpy calls' own cost is most of the
    time. Returns the candidate pairs ``[k, 2]`` (i < j, sorted), their Jaccard similarities, and the
    shingle sets (values and offsets, each set sorted and distinct).
    """
    return _near_pairs(np.ascontiguousarray(th, dtype=np.uint32), np.ascontiguousarray(offsets, dtype=np.int64),
                       n, perms.a, perms.b, bands, rows)


# The two helpers below are inlined where they are used (numba's own inlining): called as
# functions, the signature loops took 30 % longer.
@numba.njit(cache=True, nogil=True, inline="always")
def _shingle_hash(th: np.ndarray, start: int, k: int) -> np.uint64:  # pragma: no cover - compiled
    """The hash of the shingle of ``k`` token hashes ``th[start:start + k]`` (:func:`shingle_hashes`)."""
    mask = np.uint64(0xFFFFFFFF)
    fold = np.uint64(0x01000193)
    h = np.uint64(th[start])
    for t in range(1, k):
        h = ((h * fold) & mask) ^ np.uint64(th[start + t])
    return h


@numba.njit(cache=True, nogil=True, inline="always")
def _permute_min(sigs: np.ndarray, i: int, value: np.uint64, a: np.ndarray,
                 b: np.ndarray) -> None:  # pragma: no cover - compiled
    """Lower row ``i`` of ``sigs`` to ``value``'s permutations where they are smaller (datasketch's
    affine32 permutations of the fmix32-mixed hash)."""
    mask = np.uint64(0xFFFFFFFF)
    h = value
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & mask
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & mask
    h ^= h >> np.uint64(16)
    for j in range(a.shape[0]):
        v = np.uint32((h * np.uint64(a[j]) + np.uint64(b[j])) & mask)
        if v < sigs[i, j]:
            sigs[i, j] = v


@numba.njit(cache=True, nogil=True)
def _shingle_sets(th: np.ndarray, offsets: np.ndarray, n: int) -> tuple:  # pragma: no cover - compiled
    """:func:`hash_shingle_sets` of the token-hash lists ``th[offsets[i]:offsets[i + 1]]``: the
    distinct shingle hashes of each (sorted), concatenated, and their offsets."""
    m = offsets.shape[0] - 1
    total = 0
    for i in range(m):
        length = offsets[i + 1] - offsets[i]
        if length > 0:
            total += length - min(n, length) + 1
    vals = np.empty(total, dtype=np.uint32)
    soff = np.zeros(m + 1, dtype=np.int64)
    pos = 0
    for i in range(m):
        s = offsets[i]
        length = offsets[i + 1] - s
        cnt = 0
        if length > 0:
            k = min(n, length)
            cnt = length - k + 1
            tmp = np.empty(cnt, dtype=np.uint32)
            for j in range(cnt):
                tmp[j] = np.uint32(_shingle_hash(th, s + j, k))
            tmp.sort()
            c = 0
            for j in range(cnt):
                if j == 0 or tmp[j] != tmp[j - 1]:
                    vals[pos + c] = tmp[j]
                    c += 1
            cnt = c
        pos += cnt
        soff[i + 1] = pos
    return vals, soff


@numba.njit(cache=True, nogil=True)
def _set_signatures(vals: np.ndarray, soff: np.ndarray, a: np.ndarray,
                    b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`signatures` of the sets ``vals[soff[i]:soff[i + 1]]`` (datasketch's affine32
    permutations of the fmix32-mixed hashes)."""
    m = soff.shape[0] - 1
    sigs = np.full((m, a.shape[0]), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for i in range(m):
        for t in range(soff[i], soff[i + 1]):
            _permute_min(sigs, i, np.uint64(vals[t]), a, b)
    return sigs


@numba.njit(cache=True, nogil=True)
def _band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`band_keys` in compiled code."""
    m = sigs.shape[0]
    keys = np.empty((m, bands), dtype=np.uint64)
    for i in range(m):
        for band in range(bands):
            key = np.uint64(0xCBF29CE484222325)
            for r in range(rows):
                key ^= np.uint64(sigs[i, band * rows + r])
                key *= np.uint64(0x100000001B3)
                key ^= key >> np.uint64(29)
            keys[i, band] = key + np.uint64(band) * np.uint64(0x9E3779B97F4A7C15)
    return keys


@numba.njit(cache=True, nogil=True)
def _list_signatures(th: np.ndarray, offsets: np.ndarray, n: int, a: np.ndarray,
                     b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:func:`_set_signatures` of :func:`_shingle_sets`, with each shingle hash permuted as it is
    made: a minimum over the shingles is the minimum over their set, so the sets are never sorted
    or made distinct."""
    m = offsets.shape[0] - 1
    sigs = np.full((m, a.shape[0]), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for i in range(m):
        s = offsets[i]
        length = offsets[i + 1] - s
        if length <= 0:
            continue
        k = min(n, length)
        for j in range(length - k + 1):
            _permute_min(sigs, i, np.uint64(np.uint32(_shingle_hash(th, s + j, k))), a, b)
    return sigs


def set_signatures(th: np.ndarray, offsets: np.ndarray, n: int, perms: Permutations) -> np.ndarray:
    """MinHash signatures ``[m, num_perm]`` of the n-shingle sets of ``m`` token-hash lists
    ``th[offsets[i]:offsets[i + 1]]``, in one compiled pass: ``signature(shingle_hashes(th_i, n))`` of
    each (tested equal)."""
    return _list_signatures(np.ascontiguousarray(th, dtype=np.uint32), np.ascontiguousarray(offsets, dtype=np.int64),
                            n, perms.a, perms.b)


def set_band_keys(th: np.ndarray, offsets: np.ndarray, n: int, perms: Permutations, bands: int,
                  rows: int) -> np.ndarray:
    """LSH band keys ``[m, bands]`` of the shingle sets of ``m`` token-hash lists, in compiled code:
    the same as :func:`hash_shingle_sets`, :func:`signatures` and :func:`band_keys` one after the
    other (tested equal)."""
    return _band_keys(set_signatures(th, offsets, n, perms), bands, rows)


def select_lists(th: np.ndarray, offsets: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The token-hash lists ``which`` (indexes, in that order) of ``th``/``offsets``, as a new
    concatenation and its offsets."""
    which = np.asarray(which, dtype=np.int64)
    counts = offsets[which + 1] - offsets[which]
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    take = np.arange(total, dtype=np.int64) + np.repeat(offsets[which] - (ends - counts), counts)
    return th[take], np.concatenate(([0], ends)).astype(np.int64)


def text_shingle_sets(texts: Sequence[str], n: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """``shingle_set(tokens(t), n)`` of each text, as values and offsets (set ``i`` is
    ``values[offsets[i]:offsets[i + 1]]``, sorted and distinct), in compiled passes (tested equal).
    ``batch`` texts at a time, so that the working copies of the text stay small."""
    parts, offs, base = [], [np.zeros(1, dtype=np.int64)], 0
    for start in range(0, len(texts), batch):
        th, offsets = texts_token_hashes(texts[start:start + batch])
        vals, soff = _shingle_sets(th, offsets, n)
        vals = vals[: soff[-1]]  # the room left by repeated shingles is not part of any set
        parts.append(vals)
        offs.append(soff[1:] + base)
        base += len(vals)
    return (np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)), np.concatenate(offs)


def jaccard_pairs(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`exact_jaccard` of sets ``a[k]`` and ``b[k]`` of a set collection (values and offsets)."""
    return _jaccard_pairs(values, offsets, np.ascontiguousarray(a, dtype=np.int64),
                          np.ascontiguousarray(b, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def _jaccard_pairs(vals: np.ndarray, soff: np.ndarray, a: np.ndarray,
                   b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    sims = np.empty(a.shape[0], dtype=np.float64)
    for q in range(a.shape[0]):
        x = a[q]
        y = b[q]
        sa, ea = soff[x], soff[x + 1]
        sb, eb = soff[y], soff[y + 1]
        la = ea - sa
        lb = eb - sb
        if la == 0 and lb == 0:
            sims[q] = 1.0
            continue
        inter = 0
        p1, p2 = sa, sb
        while p1 < ea and p2 < eb:
            if vals[p1] == vals[p2]:
                inter += 1
                p1 += 1
                p2 += 1
            elif vals[p1] < vals[p2]:
                p1 += 1
            else:
                p2 += 1
        sims[q] = inter / (la + lb - inter)
    return sims


@numba.njit(cache=True, nogil=True)
def _near_pairs(th: np.ndarray, offsets: np.ndarray, n: int, a: np.ndarray, b: np.ndarray, bands: int,
                rows: int) -> tuple:  # pragma: no cover - compiled
    m = offsets.shape[0] - 1
    vals, soff = _shingle_sets(th, offsets, n)
    keys = _band_keys(_set_signatures(vals, soff, a, b), bands, rows)
    # per band, the rows of a bucket paired with its first row and with the previous one
    found = np.empty(4 * m * bands + 1, dtype=np.int64)
    nf = 0
    col = np.empty(m, dtype=np.uint64)
    for band in range(bands if m > 1 else 0):
        for i in range(m):
            col[i] = keys[i, band]
        order = np.argsort(col, kind="mergesort")
        first = order[0]
        for r in range(1, m):
            cur = order[r]
            prev = order[r - 1]
            if col[cur] == col[prev]:
                found[nf] = prev * m + cur
                found[nf + 1] = first * m + cur
                nf += 2
            else:
                first = cur
    codes = np.unique(found[:nf])
    kept = 0
    for q in range(codes.shape[0]):
        if codes[q] // m != codes[q] % m:
            codes[kept] = codes[q]
            kept += 1
    pairs = np.empty((kept, 2), dtype=np.int64)
    for q in range(kept):
        pairs[q, 0] = codes[q] // m
        pairs[q, 1] = codes[q] % m
    sims = _jaccard_pairs(vals, soff, pairs[:, 0].copy(), pairs[:, 1].copy())
    return pairs, sims, vals, soff
