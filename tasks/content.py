"""Position- and context-aware line judgement: is a line part of the page's content?

A raw page dump is a sequence of blocks: navigation, the headline, the body,
share buttons, related links, the footer. Words alone rarely tell them apart
("Business" is a menu entry on one line and a headline word on the next); where
a line stands does: inside a run of short, title-cased, unpunctuated lines at
the head of the page it is navigation; between two long paragraphs it is a
sub-heading. This module describes every line that survived the rule packs and
the in-document repeats by such signals — its own length, function-word share,
punctuation and capitalisation; its position in the page; and the same
measures over its neighbourhood (how many long sentence-like lines are near,
how long the run of short lines around it is, whether a rule removed a
neighbour) — and scores it with a small gradient-boosted tree model.

The model (``tasks/models/content-v*.json[.gz]``) is plain data: trees of
(feature, threshold) splits, trained by ``bench/train_content.py`` on lines
labelled against human gold cleaning, validated across data sets (trained on
one, scored on the other). It is evaluated here with numpy and numba. The bundled
model has two stages: the first scores every line from these signals; the second reads them again
with the first stage's scores over the page (the scores around the line, the span from the first
to the last line scored as content, the page's mean), so a short line among lines the first pass
finds to be content, such as a sub-heading, reads differently from the same line among menus. A line whose
score falls below the configured threshold is removed with
``reason="low_content"``; the removal's ``detail`` gives the score and the
strongest signals, so a person can see why.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from scrapewash.records import Removal
from scrapewash.tasks import minhash, title
from scrapewash.tasks.boilerplate import _ASCII_CASE_TWINS  # letters matching ASCII only ignoring case

MODELS_DIR = Path(__file__).with_name("models")
DEFAULT_MODEL = "content-v6"

_WORD = re.compile(r"\w+")
_SENT_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_ENDERS = frozenset(".!?…。！？")
_CLOSERS = "\"'”’»)]"  # what may follow a sentence end (the same sets as _SENT_END)
_SEPARATORS = title.SEPARATORS
# An e-mail-like token: a non-space run with an "@" after its first character and, at least two
# characters after that "@", a "." followed by a word character (``\S+@\S+\.\w``). Written to scan
# each token once from its start (possessive runs, the first "@" decides), so a long token full of
# "@" or without spaces costs linear time: ``\S+@\S+\.\w`` searched takes cubic time on "a@a@a@…".
_LINKISH = re.compile(
    r"https?://|www\.|(?<!\S)\S[^\s@]*+@\S[^\s.]*+(?:\.(?!\w)[^\s.]*+)*+\.\w|(?:^|\s)@\w"
    r"|\.(?:com|org|net)\b",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•–—]|\d{1,3}[.)]|[a-z][.)])\s", re.IGNORECASE)
# Lines that mark reader comments and forum posts: salutations of replies, "X says:", reply/report
# links, "N comments", "Posted by … at …", a date with a clock time.
_COMMENT_MARK = re.compile(
    r"^(?:(?:hi|hello|hey|dear|thanks|thank you)\b[^.!?]{0,30}[,!.]?"
    r"|.{1,60}\b(?:says|said|wrote|writes)\s*:"
    # separators between the links: whitespace, or one non-word character with optional whitespace
    # around it (the language of \s*\W\s*, split so that a run of spaces has one reading, not n²)
    r"|(?:reply|report|quote|like|share|permalink|flag)"
    r"(?:(?:\s++(?:[^\w\s]\s*+)?|[^\w\s]\s*+)(?:reply|report|quote|like|share))*"
    r"|\d+\s+(?:comments?|replies|responses|likes?|points?|votes?)"
    r"|(?:posted|published|submitted)\s+(?:by|on)\b.{0,60}"
    r"|.{0,40}\b\d{1,2}:\d{2}\s*+(?:[ap]\.?m\.?)?\s*+(?:#\d+)?"
    r"|\(?view all\)?|show (?:more|all) (?:comments|replies)|load more comments)$",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(r"©|\(c\)|copyright|all rights reserved", re.IGNORECASE)
_SEP_CHARS = np.array([ord(c) for c in "|»›·•←→▶►▸◄©®™"], dtype=np.uint32)  # _SEPARATORS, as code points
_SEP_MID = np.array([ord(c) for c in "/>-"], dtype=np.uint32)
# Literals one of which every match needs, lower-cased (checked by tests against the patterns); a
# text with a letter that matches an ASCII letter only under IGNORECASE (İ ı ſ K) is searched whole.
_COPYRIGHT_LITERALS = ("©", "(c)", "copyright", "all rights reserved")
_LINKISH_LITERALS = ("http", "www.", "@", ".com", ".org", ".net")
# The same patterns for a lower-cased page with no such letter, case-sensitive, cut into parts
# that each need one of their literals: a line holds a match of the whole pattern exactly when it
# holds a match of one of its parts (no match spans a line but for a leading "\n"). Most pages have
# a ".com" or a link but no "@", and the scan for a token with an "@" at every word was most of
# the time (tested equal to the whole patterns).
_COPYRIGHT_PARTS = ((_COPYRIGHT_LITERALS, re.compile(r"©|\(c\)|copyright|all rights reserved")),)
_LINKISH_PARTS = (
    (("http", "www.", ".com", ".org", ".net"), re.compile(r"https?://|www\.|\.(?:com|org|net)\b")),
    (("@",), re.compile(r"(?<!\S)\S[^\s@]*+@\S[^\s.]*+(?:\.(?!\w)[^\s.]*+)*+\.\w|(?:^|\s)@\w")),
)

# Function words of the languages the tool is mostly fed (en, de, fr, es, it, pt, nl). Their share
# tells running prose (~40 %) from menus, names and labels (~0-10 %).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours out over own same she should so
some such than that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
yours yourself
der die das den dem des ein eine einer eines einem einen und oder aber nicht ist sind war waren wird
werden wurde hat haben hatte mit von zu zum zur im in auf an am aus bei nach für über unter vor
sich er sie es wir ihr ich du auch noch nur schon wie als wenn dass so doch dann
le la les un une des du de et ou mais ne pas est sont était été a ont avait avec pour par sur dans
en au aux ce cette ces il elle ils elles nous vous je tu qui que quoi dont où se sa son ses leur
plus comme si aussi
el los las una unos unas y o pero no es son era fue ha han con para por sobre en al del lo
su sus se que quien como más muy también
il lo gli i della delle dei degli e non è sono era con per su nel nella che chi come più anche
o os as um uma e não é são foi com para por em no na do da dos das que como mais também
het een en of maar niet is zijn was waren met voor op aan uit bij naar over door dat die dit deze
ook nog als wel
""".split())

FEATURES = (
    # the line itself
    "words", "chars", "stop_share", "stop_count", "sentence_end", "colon_end", "title_case",
    "digit_share", "punct_share", "separator", "copyright", "mean_word_len", "linkish", "upper_share",
    "commas_per_word", "bullet", "lower_start", "headline_like",
    # where it stands
    "rel_pos", "from_head", "from_tail", "words_before",
    # the page
    "doc_lines", "doc_words", "doc_long_share", "doc_median_words", "doc_short_share", "doc_headline_share",
    # its neighbourhood
    "prev2_words", "prev_words", "next_words", "next2_words", "win3_words", "win10_words", "win3_long",
    "win10_long", "before_first_long", "after_last_long", "long_distance", "short_run", "rule_removed_near",
    "copies_in_doc", "win2_stop_share", "win3_sentence_end", "win3_headline_like",
    "comment_markers_above", "comment_markers_below", "same_length_lines",
    # its block (lines not separated by a blank line)
    "doc_block_share", "block_lines", "block_words", "block_index", "block_left", "block_stop_share",
    "prev_open_in_block", "open_in_block",
    # its words elsewhere on the page (:func:`content_words`): the share that another long line uses,
    # and the share that any other line uses (-1: no content words); the first share's mean over the
    # line and three on either side, and over the page
    "cohesion_long", "cohesion_any", "win3_cohesion_long", "doc_cohesion_long",
)
_EXPLAIN = {
    "words": "{:.0f} words", "stop_share": "{:.0%} function words", "sentence_end": "sentence end={:.0f}",
    "title_case": "{:.0%} capitalised words", "short_run": "in a run of {:.0f} short lines",
    "win10_long": "{:.0%} long lines nearby", "before_first_long": "before the first long line={:.0f}",
    "after_last_long": "after the last long line={:.0f}", "rule_removed_near": "{:.0f} rule removals nearby",
    "long_distance": "{:.0f} lines from a long line", "copies_in_doc": "{:.0f} copies in the page",
    "rel_pos": "at {:.0%} of the page", "separator": "separator={:.0f}", "linkish": "link-like={:.0f}",
}

# A two-stage model's second stage also reads the first stage's scores of the page's lines
# (:func:`context_features`): a line among lines the first pass finds to be content is more likely
# content than the same line among menus. "High" below: a first-pass score of 0.5 or more.
CONTEXT_FEATURES = (
    "ctx_score", "ctx_prev3", "ctx_prev2", "ctx_prev", "ctx_next", "ctx_next2", "ctx_next3",  # -1: no line
    "ctx_win2", "ctx_win5",  # mean score over the line and 2 (5) on either side
    "ctx_doc_mean", "ctx_doc_max", "ctx_doc_std", "ctx_doc_high", "ctx_rank",  # the page's scores; its rank
    "ctx_in_span", "ctx_span_distance", "ctx_before_span", "ctx_after_span",  # the span first to last high line
    "ctx_words_before", "ctx_words_after",  # share of the high lines' words above (below) the line
    "ctx_win3_by_words", "ctx_from_mean",  # word-weighted mean over 3 on either side; score minus page mean
)
ALL_FEATURES = FEATURES + CONTEXT_FEATURES
_EXPLAIN.update({
    "ctx_score": "first pass {:.2f}", "ctx_win2": "first pass {:.2f} around it",
    "ctx_win5": "first pass {:.2f} in the 11 lines around it", "ctx_doc_mean": "page's mean first pass {:.2f}",
    "ctx_in_span": "inside the content span={:.0f}", "ctx_span_distance": "{:.0f} lines from a content line",
    "ctx_win3_by_words": "first pass {:.2f} around it by words", "ctx_rank": "ranked at {:.0%} of the page",
    "ctx_from_mean": "first pass {:+.2f} from the page's mean",
})

_LOG_SCALED = frozenset({"words", "short_run", "long_distance", "copies_in_doc", "ctx_span_distance"})  # stored as log1p


class _Line(NamedTuple):
    words: int
    stops: int
    sentence_end: bool
    long: bool
    headline: bool
    comment_mark: bool
    split_words: int  # len(text.split()), plus :func:`unspaced_words`


# Scripts written without spaces between words (Chinese characters, Japanese kana): a line's word
# count adds one word per two of their characters, so that a Chinese or Japanese sentence counts about
# as many words as its translation and its length signals (long line, protected line) mean the same as
# in space-separated languages. ``\w+`` alone sees "報道によると、今回販売されたのは" as two words.
_UNSPACED_RANGES = minhash.UNSPACED_RANGES


def _unspaced(c: str) -> bool:
    o = ord(c)
    return any(lo <= o <= hi for lo, hi in _UNSPACED_RANGES)


def unspaced_words(text: str) -> int:
    """The words a line's unspaced-script characters add to its count (one per two characters)."""
    return sum(1 for c in text if _unspaced(c)) // 2


def _describe(text: str) -> tuple[_Line, list[float]]:
    toks = _WORD.findall(text)
    extra = unspaced_words(text)
    n = len(toks) + extra
    stops = sum(1 for t in toks if t.lower() in STOPWORDS)
    stripped = text.strip()
    chars = len(stripped)
    end = bool(_SENT_END.search(stripped))
    alpha = [t for t in toks if t[:1].isalpha()]
    title = sum(1 for t in alpha if t[0].isupper()) / len(alpha) if alpha else 0.0
    letters = [c for c in stripped if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper()) / len(letters) if letters else 0.0
    digits = sum(1 for c in stripped if c.isdigit())
    punct = sum(1 for c in stripped if not c.isalnum() and not c.isspace())
    own = [
        math.log1p(n), math.log1p(chars), stops / n if n else 0.0, math.log1p(stops), float(end),
        float(stripped.endswith(":")), title, digits / chars if chars else 0.0, punct / chars if chars else 0.0,
        float(bool(_SEPARATORS.search(stripped))), float(bool(_COPYRIGHT.search(stripped))),
        (sum(len(t) for t in toks) / n) if n else 0.0, float(bool(_LINKISH.search(stripped))), upper,
        stripped.count(",") / n if n else 0.0, float(bool(_BULLET.match(stripped))),
        float(stripped[:1].islower()),
    ]
    long = n >= 15 and (end or (stops / n) >= 0.2)
    headline = 3 <= n <= 16 and not end and title >= 0.5
    own.append(float(headline))
    mark = n <= 12 and bool(_COMMENT_MARK.match(stripped))
    return _Line(n, stops, end, long, headline, mark, len(text.split()) + extra), own


_F_ALPHA, _F_UPPER, _F_DIGIT, _F_PUNCT, _F_WORD, _F_SPACE = 1, 2, 4, 8, 16, 32
# _SEPARATORS' characters; "/>-"; _ENDERS; _CLOSERS; _ASCII_CASE_TWINS
_F_SEP, _F_MID, _F_END, _F_CLOSE, _F_TWIN, _F_UNSPACED = 64, 128, 256, 512, 1024, 2048


def _char_flags(c: str) -> int:
    f = 0
    if c.isalpha():
        f |= _F_ALPHA
        if c.isupper():
            f |= _F_UPPER
    if c.isdigit():
        f |= _F_DIGIT
    if not c.isalnum() and not c.isspace():
        f |= _F_PUNCT
    if c.isalnum() or c == "_":  # what ``\w`` matches in a str pattern
        f |= _F_WORD
    if c.isspace():  # what ``\s`` matches in a str pattern
        f |= _F_SPACE
    if c in "|»›·•←→▶►▸◄©®™":
        f |= _F_SEP
    if c in "/>-":
        f |= _F_MID
    if c in _ENDERS:
        f |= _F_END
    if c in _CLOSERS:
        f |= _F_CLOSE
    if _ASCII_CASE_TWINS.match(c):
        f |= _F_TWIN
    if _unspaced(c):
        f |= _F_UNSPACED
    return f


@lru_cache(maxsize=1)
def _bmp_flags() -> np.ndarray:
    return np.array([_char_flags(chr(c)) for c in range(0x10000)], dtype=np.uint16)


def _flags_of(codes: np.ndarray) -> np.ndarray:
    table = _bmp_flags()
    high = codes >= 0x10000
    if not high.any():
        return table[codes]
    out = table[np.where(high, 0, codes)]
    for c in np.unique(codes[high]):
        out[codes == c] = _char_flags(chr(int(c)))
    return out


# Columns of :func:`_line_stats`' integer matrix.
_S_TOK, _S_STOP, _S_LETTER, _S_UPPER, _S_DIGIT, _S_PUNCT, _S_WCHAR, _S_ATOK, _S_TTOK, _S_SEP, _S_END, \
    _S_COLON, _S_COMMA, _S_SPLIT, _S_UNSPACED = range(15)

_STOP_SLOTS = 4096  # open addressing, a power of two well above the number of function words


def _stop_hash(codes: list[int]) -> int:
    h = 0
    for c in codes:
        h = (h * 31 + c) & 0xFFFFFFFF
    return h


@lru_cache(maxsize=1)
def _stop_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The function words as a hash table compiled code can probe: slots (word number or -1), the
    words' code points (padded) and their lengths."""
    words = sorted(STOPWORDS)
    width = max(map(len, words))
    chars = np.zeros((len(words), width), dtype=np.uint32)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    slots = np.full(_STOP_SLOTS, -1, dtype=np.int64)
    for k, w in enumerate(words):
        chars[k, : len(w)] = [ord(c) for c in w]
        h = _stop_hash([ord(c) for c in w]) & (_STOP_SLOTS - 1)
        while slots[h] >= 0:
            h = (h + 1) & (_STOP_SLOTS - 1)
        slots[h] = k
    return slots, chars, lengths


@lru_cache(maxsize=1)
def _bmp_lower() -> np.ndarray:
    """``str.lower`` of each BMP character that lowers to one character (all but İ)."""
    out = np.arange(0x10000, dtype=np.uint32)
    for c in range(0x10000):
        low = chr(c).lower()
        if len(low) == 1:
            out[c] = ord(low)
    return out


@numba.njit(cache=True, nogil=True)
def _is_stop(codes: np.ndarray, ts: int, te: int, lower: np.ndarray, slots: np.ndarray, chars: np.ndarray,
             lengths: np.ndarray) -> int:  # pragma: no cover - compiled
    """1 if the token ``codes[ts:te]``, lower-cased, is a function word."""
    n = te - ts
    if n > chars.shape[1]:
        return 0
    h = 0
    for j in range(ts, te):
        c = codes[j]
        if c >= 0x10000:
            return 0
        h = (h * 31 + lower[c]) & 0xFFFFFFFF
    mask = slots.shape[0] - 1
    slot = h & mask
    while slots[slot] >= 0:
        w = slots[slot]
        if lengths[w] == n:
            same = True
            for j in range(n):
                if chars[w, j] != lower[codes[ts + j]]:
                    same = False
                    break
            if same:
                return 1
        slot = (slot + 1) & mask
    return 0


@numba.njit(cache=True, nogil=True)
def _line_stats(codes: np.ndarray, flags: np.ndarray, table: np.ndarray, starts: np.ndarray, lens: np.ndarray,
                given_stops: np.ndarray, lower: np.ndarray, slots: np.ndarray, chars: np.ndarray,
                lengths: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """Per line of a page (its stripped lines joined by "\\n"): token, function-word, whitespace-word,
    character and unspaced-script character counts, and the end-of-line signals, in one pass over the
    code points; and whether the page has a letter that matches ASCII only ignoring case.

    ``flags`` holds each code point's flags when the page has characters beyond the BMP (else it is
    empty and ``table`` is used); ``given_stops`` each token's function-word flag when the page has
    characters Python lower-cases by context (else it is empty and the tokens are looked up here)."""
    m = lens.shape[0]
    out = np.zeros((m, 15), dtype=np.int64)
    own_flags = flags.shape[0] > 0
    own_stops = given_stops.shape[0] > 0
    twin = False
    tok = 0
    for k in range(m):
        s = starts[k]
        e = s + lens[k]
        prev_word = False
        prev_space = True
        ts = s
        for i in range(s, e):
            c = codes[i]
            f = flags[i] if own_flags else table[c]
            if f & 1:
                out[k, 2] += 1
                if f & 2:
                    out[k, 3] += 1
            if f & 4:
                out[k, 4] += 1
            if f & 8:
                out[k, 5] += 1
            word = (f & 16) != 0
            if word:
                out[k, 6] += 1
                if not prev_word:  # a token (``\w+``) starts here
                    out[k, 0] += 1
                    ts = i
                    if own_stops:
                        out[k, 1] += given_stops[tok]
                    tok += 1
                    if f & 1:
                        out[k, 7] += 1
                    if f & 2:
                        out[k, 8] += 1
            elif prev_word and not own_stops:
                out[k, 1] += _is_stop(codes, ts, i, lower, slots, chars, lengths)
            prev_word = word
            space = (f & 32) != 0
            if not space and prev_space:  # a word of ``str.split()`` starts here
                out[k, 13] += 1
            prev_space = space
            if c == 44:  # ","
                out[k, 12] += 1
            if f & 64:
                out[k, 9] = 1
            elif f & 128 and i > s and i + 1 < e:
                fa = flags[i - 1] if own_flags else table[codes[i - 1]]
                fb = flags[i + 1] if own_flags else table[codes[i + 1]]
                if fa & 32 and fb & 32:
                    out[k, 9] = 1
            if f & 1024:
                twin = True
            if f & 2048:
                out[k, 14] += 1
        if prev_word and not own_stops:
            out[k, 1] += _is_stop(codes, ts, e, lower, slots, chars, lengths)
        j = e - 1
        while j >= s and (flags[j] if own_flags else table[codes[j]]) & 512:
            j -= 1
        if j >= s and (flags[j] if own_flags else table[codes[j]]) & 256:
            out[k, 10] = 1
        if e > s and codes[e - 1] == 58:  # ":"
            out[k, 11] = 1
    return out, twin


_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_STOP_HASH_SLOTS = 4096


def _fnv(word: str) -> int:
    """:func:`_cohesion`'s hash of a lower-case word (64-bit FNV-1a over its code points)."""
    h = int(_FNV_OFFSET)
    for c in word:
        h = ((h ^ ord(c)) * int(_FNV_PRIME)) & 0xFFFFFFFFFFFFFFFF
    return h


@lru_cache(maxsize=1)
def _stop_hashes() -> tuple[np.ndarray, np.ndarray]:
    """The function words' 64-bit hashes (:func:`_cohesion`'s) in an open-addressed table: keys, used."""
    keys = np.zeros(_STOP_HASH_SLOTS, dtype=np.uint64)
    used = np.zeros(_STOP_HASH_SLOTS, dtype=np.bool_)
    for w in STOPWORDS:
        h = _fnv(w)
        k = h & (_STOP_HASH_SLOTS - 1)
        while used[k]:
            k = (k + 1) & (_STOP_HASH_SLOTS - 1)
        keys[k], used[k] = h, True
    return keys, used


@numba.njit(cache=True, nogil=True)
def _cohesion(codes: np.ndarray, flags: np.ndarray, table: np.ndarray, starts: np.ndarray, lens: np.ndarray,
              tokens: np.ndarray, lower: np.ndarray, stop_keys: np.ndarray,
              stop_used: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The cohesion features of a page's lines (as :func:`_line_stats` gets them; ``tokens``: each
    line's token count, 15 or more for a long line), in one pass over the code points and a hash
    table of the page's content words (:func:`content_words`): of a line's distinct content words,
    the share that another long line of the page uses, and the share that any other line uses (-1
    for a line without content words); then the first share (0 for -1) averaged over the line and
    three on either side, and over the page. Words are compared by a 64-bit FNV-1a hash of their
    lower-cased code points, function words too (:func:`_cohesion_reference` compares the words)."""
    m = lens.shape[0]
    own_flags = flags.shape[0] > 0
    size = 16
    while size < codes.shape[0] // 2 + 2:  # a counted word takes 3 code points and a separator
        size *= 2
    mask = size - 1
    keys = np.empty(size, dtype=np.uint64)
    used = np.zeros(size, dtype=np.bool_)
    n_lines = np.zeros(size, dtype=np.int64)
    n_long = np.zeros(size, dtype=np.int64)
    last = np.empty(size, dtype=np.int64)
    pair_slot = np.empty(size, dtype=np.int64)
    pair_line = np.empty(size, dtype=np.int64)
    n_pairs = 0
    smask = stop_keys.shape[0] - 1
    for k in range(m):
        s = starts[k]
        e = s + lens[k]
        is_long = 1 if tokens[k] >= 15 else 0
        ts = s
        prev_word = False
        for i in range(s, e + 1):
            word = False
            if i < e:
                word = ((flags[i] if own_flags else table[codes[i]]) & 16) != 0
            if word and not prev_word:
                ts = i
            elif prev_word and not word and i - ts >= 3:  # a token [ts, i) ends here
                number = True
                unspaced = False
                h = _FNV_OFFSET
                for j in range(ts, i):
                    c = codes[j]
                    f = flags[j] if own_flags else table[c]
                    if not f & 4:
                        number = False
                    if f & 2048:
                        unspaced = True
                    lc = np.uint64(lower[c]) if c < 0x10000 else np.uint64(c)
                    h = (h ^ lc) * _FNV_PRIME
                if not number and not unspaced:
                    q = np.int64(h & np.uint64(smask))
                    stop = False
                    while stop_used[q]:
                        if stop_keys[q] == h:
                            stop = True
                            break
                        q = (q + 1) & smask
                    if not stop:
                        q = np.int64(h & np.uint64(mask))
                        while used[q] and keys[q] != h:
                            q = (q + 1) & mask
                        if not used[q]:
                            used[q] = True
                            keys[q] = h
                            last[q] = -1
                        if last[q] != k:  # the word's first time on this line
                            last[q] = k
                            n_lines[q] += 1
                            n_long[q] += is_long
                            pair_slot[n_pairs] = q
                            pair_line[n_pairs] = k
                            n_pairs += 1
            prev_word = word
    n_words = np.zeros(m, dtype=np.int64)
    in_long = np.zeros(m, dtype=np.int64)
    in_any = np.zeros(m, dtype=np.int64)
    for p in range(n_pairs):
        q = pair_slot[p]
        k = pair_line[p]
        n_words[k] += 1
        if n_lines[q] > 1:
            in_any[k] += 1
        if n_long[q] - (1 if tokens[k] >= 15 else 0) > 0:
            in_long[k] += 1
    out = np.full((m, 4), -1.0)
    share = np.zeros(m)  # the first share, 0 for a line without content words
    total = 0.0
    for k in range(m):
        if n_words[k]:
            out[k, 0] = in_long[k] / n_words[k]
            out[k, 1] = in_any[k] / n_words[k]
            share[k] = out[k, 0]
        total += share[k]
    out[:, 2] = _window_mean(share, 3)
    out[:, 3] = total / m
    return out


def content_words(text: str) -> set[str]:
    """A line's distinct content words: ``\\w+`` tokens of three or more characters, lower-cased
    character by character, that are not function words, numbers or runs of an unspaced script."""
    lower = _bmp_lower()
    out = set()
    for tok in _WORD.findall(text):
        if len(tok) < 3 or tok.isdigit() or any(_unspaced(c) for c in tok):
            continue
        w = "".join(chr(lower[ord(c)]) if ord(c) < 0x10000 else c for c in tok)
        if w not in STOPWORDS:
            out.add(w)
    return out


def _cohesion_reference(texts: list[str], long_line: list[bool]) -> np.ndarray:
    """:func:`_cohesion`'s two shares per line in Python, comparing the words themselves (the line by
    line reference of :func:`_featurize` averages the first as the other windows)."""
    words = [content_words(t) for t in texts]
    lines: Counter[str] = Counter()
    longs: Counter[str] = Counter()
    for u, lg in zip(words, long_line, strict=True):
        lines.update(u)
        if lg:
            longs.update(u)
    out = np.full((len(texts), 2), -1.0)
    for k, (u, lg) in enumerate(zip(words, long_line, strict=True)):
        if u:
            out[k, 0] = sum(1 for w in u if longs[w] - lg > 0) / len(u)
            out[k, 1] = sum(1 for w in u if lines[w] > 1) / len(u)
    return out


# Feature columns that hold log1p of a count: the compiled code writes the count, numpy takes the log.
_NONE_U16 = np.zeros(0, dtype=np.uint16)
_NONE_I64 = np.zeros(0, dtype=np.int64)
_LOG_COLUMNS = np.array([FEATURES.index(f) for f in (
    "words", "chars", "stop_count", "from_head", "from_tail", "doc_lines", "doc_words", "doc_median_words",
    "long_distance", "short_run", "copies_in_doc", "comment_markers_above", "comment_markers_below",
    "same_length_lines", "block_lines", "block_words", "block_index", "block_left")])


@numba.njit(cache=True, nogil=True)
def _window_mean(a: np.ndarray, r: int) -> np.ndarray:  # pragma: no cover - compiled
    m = a.shape[0]
    c = np.zeros(m + 1)
    for i in range(m):
        c[i + 1] = c[i] + a[i]
    out = np.empty(m)
    for i in range(m):
        lo = max(i - r, 0)
        hi = min(i + r + 1, m)
        out[i] = (c[hi] - c[lo]) / (hi - lo)
    return out


@numba.njit(cache=True, nogil=True)
def _page_rows(st: np.ndarray, lens: np.ndarray, lw: np.ndarray, copyright_: np.ndarray, linkish: np.ndarray,
               bullet: np.ndarray, lower_start: np.ndarray, marks: np.ndarray, copies: np.ndarray,
               removed: np.ndarray, idx: np.ndarray, b: np.ndarray) -> tuple:  # pragma: no cover - compiled
    """Every feature of every line (log-scaled columns still as counts), and the lines' long and
    headline flags. The same arithmetic, in the same order, as the numpy reference."""
    m = lens.shape[0]
    x = np.zeros((m, 56))
    words = np.empty(m)
    long = np.zeros(m)
    ends = np.zeros(m)
    heads = np.zeros(m)
    stop = np.empty(m)
    for i in range(m):
        n = st[i, 0]
        words[i] = n
        stop[i] = st[i, 1]
        ln = lens[i]
        x[i, 0] = n
        x[i, 1] = ln
        share = st[i, 1] / max(n, 1) if n > 0 else 0.0
        x[i, 2] = share
        x[i, 3] = st[i, 1]
        end = st[i, 10] != 0
        ends[i] = end
        x[i, 4] = end
        x[i, 5] = st[i, 11]
        title = st[i, 8] / max(st[i, 7], 1) if st[i, 7] > 0 else 0.0
        x[i, 6] = title
        x[i, 7] = st[i, 4] / max(ln, 1) if ln > 0 else 0.0
        x[i, 8] = st[i, 5] / max(ln, 1) if ln > 0 else 0.0
        x[i, 9] = st[i, 9]
        x[i, 10] = copyright_[i]
        x[i, 11] = st[i, 6] / max(n, 1) if n > 0 else 0.0
        x[i, 12] = linkish[i]
        x[i, 13] = st[i, 3] / max(st[i, 2], 1) if st[i, 2] > 0 else 0.0
        x[i, 14] = st[i, 12] / max(n, 1) if n > 0 else 0.0
        x[i, 15] = bullet[i]
        x[i, 16] = lower_start[i]
        if n >= 15 and (end or share >= 0.2):
            long[i] = 1.0
        if 3 <= n <= 16 and not end and title >= 0.5:
            heads[i] = 1.0
        x[i, 17] = heads[i]
    # the page
    total = 0.0
    long_words = 0.0
    short = 0
    head_count = 0.0
    for i in range(m):
        total += words[i]
        if long[i] > 0:
            long_words += words[i]
        if words[i] <= 5:
            short += 1
        head_count += heads[i]
    srt = np.sort(words)
    median = srt[m // 2] if m % 2 else (srt[m // 2 - 1] + srt[m // 2]) / 2.0
    first_long, last_long = m, -1
    for i in range(m):
        if long[i] > 0:
            if first_long == m:
                first_long = i
            last_long = i
    # distance to the nearest long line, runs of short lines
    dist = np.empty(m)
    prev = -1
    for i in range(m):
        if long[i] > 0:
            prev = i
        dist[i] = i - prev if prev >= 0 else m
    nxt = -1
    for i in range(m - 1, -1, -1):
        if long[i] > 0:
            nxt = i
        right = nxt - i if nxt >= 0 else m
        if right < dist[i]:
            dist[i] = right
    run = np.zeros(m)
    k = 0
    while k < m:
        if words[k] <= 5:
            e = k
            while e < m and words[e] <= 5:
                e += 1
            for j in range(k, e):
                run[j] = e - k
            k = e
        else:
            k += 1
    n_all = removed.shape[0]
    rc = np.zeros(n_all + 1)
    for i in range(n_all):
        rc[i + 1] = rc[i] + removed[i]
    sw = np.zeros(m + 1)
    ss = np.zeros(m + 1)
    for i in range(m):
        sw[i + 1] = sw[i] + words[i]
        ss[i + 1] = ss[i] + stop[i]
    w3 = _window_mean(lw, 3)
    w10 = _window_mean(lw, 10)
    l3 = _window_mean(long, 3)
    l10 = _window_mean(long, 10)
    e3 = _window_mean(ends, 3)
    h3 = _window_mean(heads, 3)
    total_marks = 0.0
    for i in range(m):
        total_marks += marks[i]
    before = 0.0
    above = 0.0
    for i in range(m):
        x[i, 18] = i / max(m - 1, 1)
        x[i, 19] = i
        x[i, 20] = m - 1 - i
        x[i, 21] = before / total if total else 0.0
        before += words[i]
        x[i, 22] = m
        x[i, 23] = total
        x[i, 24] = long_words / total if total else 0.0
        x[i, 25] = median
        x[i, 26] = short / m
        x[i, 27] = head_count / m
        x[i, 28] = lw[i - 2] if i >= 2 else 0.0
        x[i, 29] = lw[i - 1] if i >= 1 else 0.0
        x[i, 30] = lw[i + 1] if i + 1 < m else 0.0
        x[i, 31] = lw[i + 2] if i + 2 < m else 0.0
        x[i, 32] = w3[i]
        x[i, 33] = w10[i]
        x[i, 34] = l3[i]
        x[i, 35] = l10[i]
        x[i, 36] = i < first_long
        x[i, 37] = i > last_long
        x[i, 38] = dist[i]
        x[i, 39] = run[i]
        j = idx[i]
        x[i, 40] = rc[min(j + 3, n_all)] - rc[max(j - 2, 0)]
        x[i, 41] = copies[i]
        lo = max(i - 2, 0)
        hi = min(i + 3, m)
        x[i, 42] = (ss[hi] - ss[lo]) / max(sw[hi] - sw[lo], 1.0)
        x[i, 43] = e3[i]
        x[i, 44] = h3[i]
        x[i, 45] = above
        above += marks[i]
        x[i, 46] = total_marks - above
        if words[i] >= 15:
            x[i, 47] = (np.searchsorted(srt, words[i], side="right")
                        - np.searchsorted(srt, words[i], side="left") - 1)
    # blocks: grouped as np.unique groups them (by value, sorted), a line's index counted from its
    # block's first line
    order = np.argsort(b, kind="mergesort")
    inv = np.empty(m, dtype=np.int64)
    start = np.empty(m, dtype=np.int64)
    counts = np.zeros(m)
    bwords = np.zeros(m)
    bstops = np.zeros(m)
    g = -1
    for r in range(m):
        i = order[r]
        if r == 0 or b[i] != b[order[r - 1]]:
            g += 1
            start[g] = i
        inv[i] = g
        counts[g] += 1
    for i in range(m):
        bwords[inv[i]] += words[i]
        bstops[inv[i]] += stop[i]
    n_groups = g + 1
    for i in range(m):
        gi = inv[i]
        index = i - start[gi]
        x[i, 48] = n_groups / m
        x[i, 49] = counts[gi]
        x[i, 50] = bwords[gi]
        x[i, 51] = index
        x[i, 52] = counts[gi] - 1 - index
        x[i, 53] = bstops[gi] / max(bwords[gi], 1.0)
        x[i, 54] = i > 0 and b[i] == b[i - 1] and ends[i - 1] == 0
        x[i, 55] = i + 1 < m and b[i + 1] == b[i] and ends[i] == 0
    return x, long, heads


class _Lines:
    """:class:`_Line` of each line of a page, kept as the columns the compiled passes made: the
    cleaning reads two of them (:func:`judge`), so no per-line objects are built."""

    __slots__ = ("stats", "long", "headline", "comment_mark")

    def __init__(self, stats: np.ndarray, long: np.ndarray, headline: np.ndarray, comment_mark: np.ndarray):
        self.stats, self.long, self.headline, self.comment_mark = stats, long, headline, comment_mark

    @property
    def split_words(self) -> np.ndarray:
        return self.stats[:, _S_SPLIT]

    @property
    def sentence_end(self) -> np.ndarray:
        return self.stats[:, _S_END] != 0

    def rows(self) -> list[_Line]:
        st = self.stats
        return [_Line(n, sp, bool(e), lg, h, mk, w) for n, sp, e, lg, h, mk, w in zip(
            st[:, _S_TOK].tolist(), st[:, _S_STOP].tolist(), st[:, _S_END].tolist(), self.long.tolist(),
            self.headline.tolist(), self.comment_mark.tolist(), st[:, _S_SPLIT].tolist(), strict=True)]


def _describe_page(current: list[str | None], idx: list[int], texts: list[str],
                   blocks: list[int] | None) -> tuple[_Lines, np.ndarray]:
    """Every feature of a page's present lines: the counting in compiled code (:func:`_line_stats`,
    :func:`_page_rows`), the regex signals in page-wide passes; equal to the line-by-line numpy
    reference to the bit (tested)."""
    m = len(texts)
    stripped = [t.strip() for t in texts]
    joined = "\n".join(stripped)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    flags = _flags_of(codes) if codes.size and codes.max() >= 0x10000 else _NONE_U16
    lens = np.fromiter(map(len, stripped), dtype=np.int64, count=m)
    starts = np.zeros(m, dtype=np.int64)
    if m > 1:
        np.cumsum(lens[:-1] + 1, out=starts[1:])
    # Lower-casing maps every character but İ to one character, and all but Σ without context: on
    # other pages the compiled code looks the tokens up itself.
    given = (np.fromiter((t.lower() in STOPWORDS for t in _WORD.findall(joined)), dtype=np.int64)
             if "\u0130" in joined or "\u03a3" in joined else _NONE_I64)
    st, twins = _line_stats(codes, flags, _bmp_flags(), starts, lens, given, _bmp_lower(), *_stop_table())
    if st[:, _S_UNSPACED].any():  # words of scripts without spaces (:func:`unspaced_words`)
        extra = st[:, _S_UNSPACED] // 2
        st[:, _S_TOK] += extra
        st[:, _S_SPLIT] += extra

    # _COPYRIGHT and _LINKISH over the whole page (only if a literal every match needs is there; a
    # page with a letter that matches ASCII only ignoring case is searched whole). No match spans
    # the joining "\n" (which ``\s`` and ``(?<!\S)`` see as a line's start), so a match belongs to the
    # line of its last character.
    lowered = None if twins else joined.lower()

    def lines_matching(rx: re.Pattern[str], parts: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]) -> np.ndarray:
        hit = np.zeros(m, dtype=np.bool_)
        if lowered is None:
            last = [mt.end() - 1 for mt in rx.finditer(joined)]
        else:
            last = [mt.end() - 1 for literals, part in parts if any(f in lowered for f in literals)
                    for mt in part.finditer(lowered)]
        if last:
            hit[np.searchsorted(starts, last, side="right") - 1] = True
        return hit

    n_tok = st[:, _S_TOK].tolist()
    marks = np.array([n <= 12 and _COMMENT_MARK.match(s) is not None for n, s in zip(n_tok, stripped, strict=True)],
                     dtype=np.bool_)
    keys = [s.casefold() for s in stripped]
    copies = Counter(keys)
    x, long, heads = _page_rows(
        st, lens, np.log1p(st[:, _S_TOK].astype(np.float64)), lines_matching(_COPYRIGHT, _COPYRIGHT_PARTS),
        lines_matching(_LINKISH, _LINKISH_PARTS),
        np.array([_BULLET.match(s) is not None for s in stripped], dtype=np.bool_),
        np.array([s[:1].islower() for s in stripped], dtype=np.bool_), marks,
        np.array([copies[k] - 1 for k in keys], dtype=np.float64),
        np.array([p is None for p in current], dtype=np.float64), np.array(idx, dtype=np.int64),
        np.array([blocks[i] for i in idx] if blocks is not None else idx, dtype=np.int64),
    )
    x[:, _LOG_COLUMNS] = np.log1p(x[:, _LOG_COLUMNS])
    coh = _cohesion(codes, flags, _bmp_flags(), starts, lens, st[:, _S_TOK], _bmp_lower(), *_stop_hashes())
    return _Lines(st, long > 0, heads > 0, marks), np.hstack([x, coh]).astype(np.float32)


def features(current: list[str | None], blocks: list[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Feature rows for the lines still present in ``current`` (``None``: removed by an earlier stage),
    with their indexes in ``current``. ``blocks`` gives each line's block (lines not separated by a
    blank line share one); without it every line is its own block."""
    idx, _, x = _featurize(current, blocks)
    return idx, x


def _block_features(idx: list[int], lines: list[_Line], blocks: list[int] | None) -> np.ndarray:
    m = len(idx)
    b = np.array([blocks[i] for i in idx] if blocks is not None else idx, dtype=np.int64)
    words = np.array([ln.words for ln in lines], dtype=np.float64)
    stops = np.array([ln.stops for ln in lines], dtype=np.float64)
    ends = np.array([ln.sentence_end for ln in lines], dtype=bool)
    _, start, inv, counts = np.unique(b, return_index=True, return_inverse=True, return_counts=True)
    bwords = np.bincount(inv, weights=words)
    bstops = np.bincount(inv, weights=stops)
    index = np.arange(m) - start[inv]  # b is non-decreasing, so a block's lines are contiguous
    same_prev = np.concatenate(([False], b[1:] == b[:-1]))
    same_next = np.concatenate((b[1:] == b[:-1], [False]))
    prev_open = same_prev & ~np.concatenate(([True], ends[:-1]))
    return np.column_stack([
        np.full(m, len(counts) / m), np.log1p(counts[inv]), np.log1p(bwords[inv]), np.log1p(index),
        np.log1p(counts[inv] - 1 - index), bstops[inv] / np.maximum(bwords[inv], 1),
        prev_open, same_next & ~ends,
    ])


def _featurize(current: list[str | None], blocks: list[int] | None = None,
               reference: bool = False) -> tuple[list[int], _Lines | list[_Line], np.ndarray]:
    """The present lines' indexes, descriptions (:class:`_Lines`; ``reference``: a :class:`_Line`
    each, made line by line) and feature rows."""
    idx = [i for i, p in enumerate(current) if p is not None]
    m = len(idx)
    if not m:
        return idx, [], np.zeros((0, len(FEATURES)), dtype=np.float32)
    if not reference:
        return idx, *_describe_page(current, idx, [current[i] for i in idx], blocks)  # type: ignore[misc]
    lines = []
    own_rows: list[list[float]] = []
    for i in idx:
        line, f = _describe(current[i])  # type: ignore[arg-type]
        lines.append(line)
        own_rows.append(f)
    own = np.array(own_rows, dtype=np.float64)
    words = np.array([ln.words for ln in lines], dtype=np.float64)
    lw = np.log1p(words)
    long = np.array([ln.long for ln in lines], dtype=np.float64)
    ends = np.array([ln.sentence_end for ln in lines], dtype=np.float64)
    heads = np.array([ln.headline for ln in lines], dtype=np.float64)
    stop = np.array([ln.stops for ln in lines], dtype=np.float64)
    total = words.sum()
    before = np.concatenate(([0.0], np.cumsum(words)[:-1]))
    long_pos = np.flatnonzero(long)
    first_long = long_pos[0] if len(long_pos) else m
    last_long = long_pos[-1] if len(long_pos) else -1
    pos = np.arange(m)
    if len(long_pos):
        j = np.searchsorted(long_pos, pos)
        left = np.where(j > 0, pos - long_pos[np.maximum(j - 1, 0)], m)
        right = np.where(j < len(long_pos), long_pos[np.minimum(j, len(long_pos) - 1)] - pos, m)
        dist = np.minimum(left, right)
    else:
        dist = np.full(m, m)
    short = words <= 5
    run = np.zeros(m)
    k = 0
    while k < m:
        if short[k]:
            e = k
            while e < m and short[e]:
                e += 1
            run[k:e] = e - k
            k = e
        else:
            k += 1
    removed = np.array([p is None for p in current], dtype=np.float64)
    rc = np.concatenate(([0.0], np.cumsum(removed)))
    n_all = len(current)
    idx_arr = np.array(idx)
    near_removed = rc[np.minimum(idx_arr + 3, n_all)] - rc[np.maximum(idx_arr - 2, 0)]
    keys = [(current[i] or "").strip().casefold() for i in idx]
    marks = np.array([ln.comment_mark for ln in lines], dtype=np.float64)
    marks_above = np.concatenate(([0.0], np.cumsum(marks)[:-1]))
    marks_below = marks.sum() - np.cumsum(marks)
    lengths = Counter(int(v) for v in words if v >= 15)
    same_len = np.array([lengths[int(v)] - 1 if v >= 15 else 0 for v in words], dtype=np.float64)
    copies = Counter(keys)

    def window_mean(a: np.ndarray, r: int) -> np.ndarray:
        c = np.concatenate(([0.0], np.cumsum(a)))
        lo = np.maximum(pos - r, 0)
        hi = np.minimum(pos + r + 1, m)
        return (c[hi] - c[lo]) / (hi - lo)

    def shifted(a: np.ndarray, s: int) -> np.ndarray:
        out = np.zeros(m)
        if s > 0:
            out[s:] = a[:-s] if s < m else 0
        else:
            out[:s] = a[-s:] if -s < m else 0
        return out

    coh = _cohesion_reference([current[i].strip() for i in idx], [ln.words >= 15 for ln in lines])  # type: ignore[union-attr]
    share = np.maximum(coh[:, 0], 0.0)
    sw = np.concatenate(([0.0], np.cumsum(words)))
    ss = np.concatenate(([0.0], np.cumsum(stop)))
    lo2, hi2 = np.maximum(pos - 2, 0), np.minimum(pos + 3, m)
    win2_stop = (ss[hi2] - ss[lo2]) / np.maximum(sw[hi2] - sw[lo2], 1)
    doc = [math.log1p(m), math.log1p(total), float(words[long > 0].sum() / total) if total else 0.0,
           math.log1p(float(np.median(words))), float((words <= 5).mean()), float(heads.mean())]
    ctx = np.column_stack([
        pos / max(m - 1, 1), np.log1p(pos), np.log1p(m - 1 - pos), before / total if total else np.zeros(m),
        np.tile(doc, (m, 1)),
        shifted(lw, 2), shifted(lw, 1), shifted(lw, -1), shifted(lw, -2),
        window_mean(lw, 3), window_mean(lw, 10), window_mean(long, 3), window_mean(long, 10),
        (pos < first_long).astype(np.float64), (pos > last_long).astype(np.float64), np.log1p(dist),
        np.log1p(run), near_removed, np.log1p(np.array([copies[k_] - 1 for k_ in keys], dtype=np.float64)),
        win2_stop, window_mean(ends, 3), window_mean(heads, 3),
        np.log1p(marks_above), np.log1p(marks_below), np.log1p(same_len),
        _block_features(idx, lines, blocks),
        coh, window_mean(share, 3), np.full(m, np.cumsum(share)[-1] / m),
    ])
    x = np.hstack([own, ctx]).astype(np.float32)
    assert x.shape[1] == len(FEATURES)
    return idx, lines, x


_HIGH = 0.5  # a "high" first-pass score, for the context features
_N_CONTEXT = len(CONTEXT_FEATURES)


@numba.njit(cache=True, nogil=True)
def _context(p: np.ndarray, words: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """:data:`CONTEXT_FEATURES` of one page's lines from their first-pass scores ``p`` and word counts."""
    m = p.shape[0]
    out = np.empty((m, _N_CONTEXT), dtype=np.float64)
    if m == 0:
        return out
    mean = p.mean()
    top = p.max()
    std = np.sqrt(((p - mean) ** 2).mean())
    first = -1
    last = -1
    high = 0
    high_words = 0.0
    for i in range(m):
        if p[i] >= _HIGH:
            if first < 0:
                first = i
            last = i
            high += 1
            high_words += words[i]
    order = np.argsort(p, kind="mergesort")  # stable: equal scores ranked by position
    rank = np.empty(m, dtype=np.float64)
    for j in range(m):
        rank[order[j]] = (j + 0.5) / m
    cum = np.zeros(m + 1)
    cwp = np.zeros(m + 1)
    cw = np.zeros(m + 1)
    for i in range(m):
        cum[i + 1] = cum[i] + p[i]
        cwp[i + 1] = cwp[i] + p[i] * words[i]
        cw[i + 1] = cw[i] + words[i]
    # distance to the nearest high line: a pass from each side
    near = np.empty(m, dtype=np.float64)
    d = -1
    for i in range(m):
        if p[i] >= _HIGH:
            d = i
        near[i] = i - d if d >= 0 else np.inf
    d = -1
    for i in range(m - 1, -1, -1):
        if p[i] >= _HIGH:
            d = i
        if d >= 0 and d - i < near[i]:
            near[i] = d - i
    above = 0.0
    none = math.log1p(m)
    for i in range(m):
        out[i, 0] = p[i]
        for j, off in enumerate((-3, -2, -1, 1, 2, 3)):
            k = i + off
            out[i, 1 + j] = p[k] if 0 <= k < m else -1.0
        lo, hi = max(i - 2, 0), min(i + 3, m)
        out[i, 7] = (cum[hi] - cum[lo]) / (hi - lo)
        lo, hi = max(i - 5, 0), min(i + 6, m)
        out[i, 8] = (cum[hi] - cum[lo]) / (hi - lo)
        out[i, 9] = mean
        out[i, 10] = top
        out[i, 11] = std
        out[i, 12] = high / m
        out[i, 13] = rank[i]
        if first >= 0:
            out[i, 14] = 1.0 if first <= i <= last else 0.0
            out[i, 15] = math.log1p(near[i])
            out[i, 16] = math.log1p(max(first - i, 0))
            out[i, 17] = math.log1p(max(i - last, 0))
        else:
            out[i, 14] = 0.0
            out[i, 15] = none
            out[i, 16] = none
            out[i, 17] = none
        own = words[i] if p[i] >= _HIGH else 0.0
        total = max(high_words, 1.0)
        out[i, 18] = above / total
        out[i, 19] = (high_words - above - own) / total
        above += own
        lo, hi = max(i - 3, 0), min(i + 4, m)
        out[i, 20] = (cwp[hi] - cwp[lo]) / max(cw[hi] - cw[lo], 1.0)
        out[i, 21] = p[i] - mean
    return out


_WORDS_COLUMN = FEATURES.index("words")  # log1p of the line's word count


def context_features(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:data:`CONTEXT_FEATURES` (float32, one row per line) of one page's lines, in page order, from
    their first-pass scores ``p`` and their feature rows ``x`` (for the word counts)."""
    words = np.rint(np.expm1(x[:, _WORDS_COLUMN].astype(np.float64)))
    return _context(np.ascontiguousarray(p, dtype=np.float64), words).astype(np.float32)


class ContentModel:
    """Gradient-boosted trees stored as arrays; ``score`` gives P(content) per row.

    All trees' nodes live in flat arrays (tree ``t``'s node ``k`` at ``offset[t] + k``); a leaf's
    children point at itself, so walking ``max_depth`` steps lands every row on its leaf.

    A two-stage model (``"first"`` in its spec: the first stage, itself a model) reads, beside a
    line's features, the :data:`CONTEXT_FEATURES` of the first stage's scores of the whole page.
    Its rows are made per page by :meth:`page_rows`; a one-stage model's rows are the features.
    """

    def __init__(self, spec: dict):
        self.name = spec["name"]
        self.version = int(spec["version"])
        names = tuple(spec["features"])
        self.first = ContentModel(spec["first"]) if "first" in spec else None
        known = ALL_FEATURES if self.first is not None else FEATURES
        unknown = [f for f in names if f not in known]
        if unknown:
            raise ValueError(f"model {self.name} was trained on features this version does not compute: {unknown}")
        self.features = names
        self.base = float(spec["base_score"])
        self.default_threshold = float(spec.get("threshold", 0.5))
        self.depth = int(spec.get("max_depth", 16))
        trees = spec["trees"]
        self.n_trees = len(trees)
        sizes = np.array([len(t["feature"]) for t in trees])
        self.roots = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        offset = np.repeat(self.roots, sizes)
        own = np.arange(int(sizes.sum()))
        left = np.concatenate([t["left"] for t in trees]).astype(np.int64)
        right = np.concatenate([t["right"] for t in trees]).astype(np.int64)
        leaf = left < 0
        # The trees' feature numbers index the model's own feature list; they are mapped to this
        # version's columns, so a model trained before a feature was added still reads its own.
        columns = np.array([ALL_FEATURES.index(f) for f in names], dtype=np.int64)
        self.feature = columns[np.concatenate([t["feature"] for t in trees]).astype(np.int64)]
        self.threshold = np.concatenate([t["threshold"] for t in trees]).astype(np.float64)
        self.value = np.concatenate([t["value"] for t in trees]).astype(np.float64)
        self.left = np.where(leaf, own, left + offset)
        self.right = np.where(leaf, own, right + offset)
        # For the compiled walk, half the bytes per node: 32-bit node numbers and features, and each
        # threshold rounded down to a 32-bit float, which a 32-bit feature value is ``<=`` exactly
        # when it is ``<=`` the 64-bit threshold (rows are float32).
        t32 = self.threshold.astype(np.float32)
        above = t32.astype(np.float64) > self.threshold
        t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
        self.walk = (self.roots.astype(np.int32), self.feature.astype(np.int32), t32,
                     self.left.astype(np.int32), self.right.astype(np.int32))
        self.depths = _tree_depths(self.roots, self.left, self.right)
        self.packed, self.packed_thresholds = _pack(self.walk[1], t32, self.walk[3], self.walk[4])
        self.packed64 = _pack(self.feature, self.threshold, self.left, self.right)
        importance = spec.get("importance", {})
        self.explained = [f for f in sorted(importance, key=importance.get, reverse=True) if f in _EXPLAIN]

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Sum of the trees' leaf values for each row.

        The trees are walked and their leaf values summed by compiled code (:func:`_margins`, numba):
        float32 rows, as the features are, against the thresholds rounded down to float32, other
        rows against the float64 ones; tree after tree in the model's order, as
        :meth:`margin_reference` sums them, so both give the same bits.
        """
        n = x.shape[0]
        if not n:
            return np.zeros(0)
        if x.dtype == np.float32:
            total = _margins(np.ascontiguousarray(x), self.walk[0], self.packed, self.packed_thresholds,
                             self.depths, self.value)
        else:
            total = _margins(np.ascontiguousarray(x, dtype=np.float64), self.roots, *self.packed64,
                             self.depths, self.value)
        return self.base + total

    def margin_reference(self, x: np.ndarray) -> np.ndarray:
        """:meth:`margin` in numpy alone: every tree walked ``max_depth`` steps at once, then the
        leaf values added tree after tree."""
        n = x.shape[0]
        if not n:
            return np.zeros(0)
        xd = x.astype(np.float64, copy=False)
        node = np.broadcast_to(self.roots, (n, self.n_trees)).copy()  # (rows, trees)
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            go_left = xd[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        total = np.zeros(n)
        for k in range(self.n_trees):
            total += self.value[node[:, k]]
        return self.base + total

    def score(self, x: np.ndarray) -> np.ndarray:
        """P(content) of each row: rows of features, or of a two-stage model, :meth:`page_rows`."""
        return 1.0 / (1.0 + np.exp(-self.margin(x)))

    def page_rows(self, x: np.ndarray) -> np.ndarray:
        """The rows this model's trees read for one page's lines (``x``: their features, in page
        order): ``x`` itself, or for a two-stage model ``x`` with the context of the first stage's
        scores (:data:`ALL_FEATURES`' columns)."""
        if self.first is None:
            return x
        return np.hstack([x, context_features(self.first.score(x), x)])


@numba.njit(cache=True, nogil=True)
def _margins(x: np.ndarray, roots: np.ndarray, nodes: np.ndarray, thresholds: np.ndarray,
             depth: np.ndarray, value: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The sum of each row's leaf values over the trees, tree after tree.

    ``nodes`` holds each node's feature, threshold bits, left and right child in one row (int32 for
    float32 rows: 16 bytes, one cache line per step; int64 for float64 rows); ``thresholds`` is the
    same memory seen as floats. A leaf's children point at itself.

    All rows walk a tree together, one level at a time, for as many levels as the tree is deep
    (``depth``): each step picks the next node without a branch, and the rows' steps do not wait on
    each other, so the processor overlaps them; walking each row down with a branch per node stalls
    on every mispredicted turn. One or two rows walk down with a branch per node all the same: for
    so few, the level-by-level walk's steps past their leaves cost more than the mispredicted turns.
    The walk of a tree ends at the first level where no row moves: a page's rows reach their leaves
    in about 6.7 of the 10.9 levels of `content-v6`'s first stage on average, against the tree's
    own depth.
    """
    n = x.shape[0]
    out = np.zeros(n, dtype=np.float64)
    if n <= 2:
        for k in range(roots.shape[0]):
            for i in range(n):
                j = roots[k]
                while nodes[j, 2] != j:
                    j = nodes[j, 2] if x[i, nodes[j, 0]] <= thresholds[j, 1] else nodes[j, 3]
                out[i] += value[j]
        return out
    node = np.empty(n, dtype=nodes.dtype)
    for k in range(roots.shape[0]):
        for i in range(n):
            node[i] = roots[k]
        for _ in range(depth[k]):
            moved = False
            for i in range(n):
                j = node[i]
                step = nodes[j, 2] if x[i, nodes[j, 0]] <= thresholds[j, 1] else nodes[j, 3]
                node[i] = step
                moved |= step != j
            if not moved:  # every row at its leaf
                break
        for i in range(n):
            out[i] += value[node[i]]
    return out


def _pack(feature: np.ndarray, threshold: np.ndarray, left: np.ndarray,
          right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes as :func:`_margins` reads them: rows of (feature, threshold's bits, left, right) in
    integers as wide as the thresholds, and the same memory seen as floats."""
    ints = np.int32 if threshold.dtype == np.float32 else np.int64
    nodes = np.column_stack([feature, np.zeros(len(threshold)), left, right]).astype(ints)
    floats = nodes.view(threshold.dtype)
    floats[:, 1] = threshold
    return nodes, floats


def _tree_depths(roots: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Each tree's depth: the most steps from its root to a leaf."""
    out = np.zeros(len(roots), dtype=np.int64)
    for k, r in enumerate(roots.tolist()):
        level, d = [r], 0
        while True:
            nxt = [c for j in level if left[j] != j for c in (int(left[j]), int(right[j]))]
            if not nxt:
                break
            level, d = nxt, d + 1
        out[k] = d
    return out


def read_spec(path: Path) -> dict:
    """A model file's spec: JSON, or gzip-compressed JSON (``.json.gz``)."""
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if path.name.endswith(".gz") else data)


@lru_cache(maxsize=8)
def load_model(name: str = DEFAULT_MODEL) -> ContentModel:
    """A bundled model by name (``tasks/models/<name>.json`` or ``.json.gz``) or a model file's path."""
    if name.endswith((".json", ".json.gz")):
        return ContentModel(read_spec(Path(name)))
    plain = MODELS_DIR / f"{name}.json"
    return ContentModel(read_spec(plain if plain.exists() else MODELS_DIR / f"{name}.json.gz"))


def model_info(name: str, threshold: float | None) -> dict:
    """What a run records about its line model (loading it, so a bad model fails before any work)."""
    m = load_model(name)
    return {"name": m.name, "version": m.version, "stages": 1 if m.first is None else 2,
            "trees": m.n_trees + (m.first.n_trees if m.first is not None else 0),
            "threshold": threshold if threshold is not None else m.default_threshold}


def explain(row: np.ndarray, model: ContentModel, top: int = 4) -> str:
    """The ``top`` most important signals the model weighs, with this row's values, in words; for a
    two-stage model, then the first stage's three, which say what its first pass saw."""
    parts = []
    for f in model.explained[:top]:
        v = float(row[ALL_FEATURES.index(f)])
        parts.append(_EXPLAIN[f].format(math.expm1(v) if f in _LOG_SCALED else v))
    out = "; ".join(parts)
    if model.first is not None:
        out += " | first pass: " + explain(row, model.first, 3)
    return out


def explanations(rows: np.ndarray, model: ContentModel, top: int = 4) -> list[str]:
    """:func:`explain` of each row of ``rows``: the formats of all the signals shown (for a
    two-stage model, the first stage's three too) joined into one, filled by one call per row from
    the columns picked and made Python floats at once (tested equal)."""
    if not len(rows):
        return []
    names = list(model.explained[:top])
    template = "; ".join(_EXPLAIN[f] for f in names)
    if model.first is not None:
        first = model.first.explained[:3]
        template += " | first pass: " + "; ".join(_EXPLAIN[f] for f in first)
        names += first
    expm1 = math.expm1
    columns = []
    for f in names:
        values = rows[:, ALL_FEATURES.index(f)].tolist()
        columns.append([expm1(v) for v in values] if f in _LOG_SCALED else values)
    return list(map(template.format, *columns)) if columns else [template] * len(rows)


def _headline_position(texts: list[str], lines: _Lines) -> int | None:
    """The page's headline: a 3-30 word line without end punctuation just before the first long sentence.

    Gold cleaning in the benchmark sets leaves titles out, so the model learned to drop them;
    a dataset of articles keeps them, so this line is protected from the model.
    """
    body = np.flatnonzero(lines.long & lines.sentence_end)
    first_body = int(body[0]) if len(body) else None
    if not first_body:
        return None
    for k in range(first_body - 1, max(first_body - 3, -1), -1):
        if title.heading_shaped(texts[k].strip()):
            return k
    return None


_BULLET_COLUMN = FEATURES.index("bullet")  # 1 for a list item (:data:`_BULLET`), else 0


def _outside_kept_lists(low: list[int], item: list[bool]) -> list[int]:
    """``low`` (positions of the page's lines to remove, ascending) without the list items whose
    neighbours on both sides are list items that stay (``item``: whether each line is a list item)."""
    gone = set(low)
    n = len(item)
    return [k for k in low if not (0 < k < n - 1 and k - 1 not in gone and k + 1 not in gone
                                   and item[k] and item[k - 1] and item[k + 1])]


def judge(doc_id: str, current: list[str | None], model: ContentModel | None, threshold: float,
          protect_words: int, keep_headline: bool = True, blocks: list[int] | None = None,
          keep_lead_in: bool = True, keep_list_items: bool = True, *, take_title: bool = False,
          url: str | None = None, given_title: str | None = None,
          empty_pages: bool = True) -> tuple[list[str | None], list[Removal]]:
    """Remove the present lines of ``current`` the model scores below ``threshold``.

    Never removed: lines of at least ``protect_words`` words, (``keep_headline``) the headline,
    (``keep_lead_in``, with ``blocks``) a line followed in its block by a line of ``protect_words``
    words or more, and (``keep_list_items``) a list item between two list items that stay: a list
    is not cut in its middle.

    ``empty_pages``: when the model scores every line it judges below ``threshold`` and no line is
    protected, all of them go, and so does the title line that would be left alone: the page has
    no content line, and a title alone is no document (the document then counts as empty). False:
    such a page is kept whole.

    ``take_title``: find the page's title line (:func:`scrapewash.tasks.title.find_title`, with ``url``
    and the input's own title ``given_title``), which the model does not judge, and move it out of
    the text: a removal with reason "title", unless it would be the only line left. ``model`` None:
    only that.
    """
    idx, lines, x = _featurize(current, blocks)
    if not idx:
        return current, []
    texts = [current[i] for i in idx]
    at = None
    if take_title:
        at, how = title.find_title(texts, url, title.body_start((lines.long & lines.sentence_end).tolist(),
                                                                 lines.long.tolist()), given_title)
    out, removals = (_score_lines(doc_id, current, idx, texts, lines, x, model, threshold, protect_words,
                                  keep_headline, blocks, keep_lead_in, keep_list_items, at, empty_pages)
                     if model is not None else (list(current), []))
    if at is None:
        return out, removals
    if _emptied(removals, len(idx), at):
        # every other line scored low (only possible with ``empty_pages``): the title goes with them
        gone = Removal(doc_id, idx[at], texts[at], "low_content", "paragraph", 1, rule=removals[0].rule,
                       detail=f"the title line of a page whose other {len(removals)} line(s) all scored "
                              f"below {threshold:.2f}: a title alone is no document")
    elif len(removals) < len(idx) - 1:
        gone = Removal(doc_id, idx[at], texts[at], "title", "paragraph", 1, rule=f"title/{how}",
                       detail=f"moved to the title column ({title.FOUND_BY[how]})")
    else:
        return out, removals  # the title would be the only line left: it stays in the text
    out[idx[at]] = None
    removals.append(gone)
    removals.sort(key=lambda r: r.paragraph_index)  # type: ignore[arg-type,return-value]
    return out, removals


def _score_lines(doc_id: str, current: list[str | None], idx: list[int], texts: list[str], lines: _Lines,
                 x: np.ndarray, model: ContentModel, threshold: float, protect_words: int, keep_headline: bool,
                 blocks: list[int] | None, keep_lead_in: bool, keep_list_items: bool,
                 title_at: int | None, empty_pages: bool = True) -> tuple[list[str | None], list[Removal]]:
    """:func:`judge`'s model pass; the title (``title_at``) is not judged."""
    headline = _headline_position(texts, lines) if keep_headline else None
    out = list(current)
    removals: list[Removal] = []
    protected = (lines.split_words >= protect_words).tolist()
    if keep_lead_in and blocks is not None:  # a line running on, in its block, into a protected one
        for k in range(len(idx) - 1):
            protected[k] = protected[k] or (protected[k + 1] and blocks[idx[k]] == blocks[idx[k + 1]])
    if headline is not None:
        protected[headline] = True
    if title_at is not None:
        protected[title_at] = True
    # Only lines the model may remove are scored (the features still see every line).
    judged = [k for k in range(len(idx)) if not protected[k]]
    p = np.full(len(idx), np.inf)
    rows = x
    if judged:
        rows = model.page_rows(x)  # a two-stage model's first pass scores every line
        p[judged] = model.score(rows[judged])
    scores = p.tolist()
    low = [k for k in judged if not scores[k] >= threshold]  # "not >=": removed unless scored at the threshold or above
    if keep_list_items and low:
        low = _outside_kept_lists(low, (x[:, _BULLET_COLUMN] > 0).tolist())  # the features' own list marks
    for k, why in zip(low, explanations(rows[low], model), strict=True):
        i = idx[k]
        out[i] = None
        removals.append(Removal(doc_id, i, texts[k], "low_content", "paragraph", 1, rule=model.name,
                                detail=f"score {scores[k]:.2f} < {threshold:.2f}: {why}"))
    if not empty_pages and _emptied(removals, len(idx), title_at):
        return list(current), []  # the page kept whole rather than emptied on the model's word alone
    return out, removals


def _emptied(removals: list[Removal], n_lines: int, title_at: int | None) -> bool:
    """Whether the model's ``removals`` take every line of a page of ``n_lines`` but its title line."""
    return bool(removals) and len(removals) >= n_lines - (title_at is not None)
