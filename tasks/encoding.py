"""Encoding repair (ftfy) and whitespace normalisation, with a record of every fix.

The ftfy configuration is deliberate (see README, "Encoding repair"):

* mojibake, HTML entities, C0/C1 control characters, terminal escapes, broken
  surrogates, line breaks: repaired (ftfy's defaults, plus ``unescape_html=True``
  because inputs are extracted text, never HTML, so an entity is always an
  extraction artefact);
* curly quotes: **kept** (``uncurl_quotes=False``) — they are the publisher's
  typography, not damage, and straightening them would rewrite every clean page;
* Latin ligatures (``ﬁ``): repaired — they come from PDF/typesetting and break
  search and deduplication;
* character width: **not** folded (``fix_character_width=False``) — it would
  also rewrite the full-width punctuation of Chinese and Japanese text;
* Unicode normalisation: NFC (canonical composition only; NFKC would change
  superscripts, fractions and compatibility characters).

After ftfy, whitespace is normalised: no-break and other Unicode spaces become
a plain space, zero-width spaces, BOMs and soft hyphens are dropped, runs of
spaces collapse, and each line is stripped. These fixes are recorded too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import ftfy

from scrapewash.config import EncodingConfig

# Unicode space separators other than U+0020 (category Zs), plus tab.
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_SPACE_RE = re.compile(f"[{_SPACES}\t]")
_INVISIBLE_RE = re.compile("[\u200b\ufeff\u00ad\u2060]")
_MULTISPACE_RE = re.compile(" {2,}")
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_ANY_FIX_RE = re.compile(f"[{_SPACES}\t\u200b\ufeff\u00ad\u2060\ud800-\udfff]")  # one of the three above


def ftfy_config(cfg: EncodingConfig) -> ftfy.TextFixerConfig:
    """The ftfy configuration for ``cfg``."""
    return _ftfy_config(cfg.unescape_html, cfg.uncurl_quotes, cfg.fix_latin_ligatures,
                        cfg.fix_character_width, cfg.normalization)


@lru_cache(maxsize=16)
def _ftfy_config(unescape_html: bool, uncurl_quotes: bool, ligatures: bool, width: bool,
                 normalization: str | None) -> ftfy.TextFixerConfig:
    return ftfy.TextFixerConfig(
        unescape_html=unescape_html,
        uncurl_quotes=uncurl_quotes,
        fix_latin_ligatures=ligatures,
        fix_character_width=width,
        normalization=normalization,
        explain=True,
    )


def _step_name(kind: str, name: str) -> str:
    if kind == "apply":
        return name
    if kind in ("encode", "decode"):
        return f"{kind}:{name}"
    return f"{kind}:{name}" if kind != "transcode" else name


def _ftfy_fix_segment_steps(segment: str, cfg: ftfy.TextFixerConfig, steps: list[str]) -> str:
    fixed, explanation = ftfy.fix_and_explain(segment, cfg)
    for kind, name in explanation or ():
        s = _step_name(kind, name)
        if s not in steps:
            steps.append(s)
    return fixed


def ftfy_fix(text: str, config: ftfy.TextFixerConfig) -> tuple[str, list[str]]:
    """Exactly ``ftfy.fix_text(text, config)``, plus the names of the steps applied.

    Like ``fix_text`` it works line by line (ftfy's segments), so results do
    not depend on how much text is fixed at once. Text that ftfy cannot change
    (see :func:`ftfy_would_keep`) is returned as it is without calling ftfy;
    the equality with ftfy is tested on generated text, on ftfy's own test
    cases and on the evaluation sets.
    """
    cfg = config
    n = len(text)
    if n <= cfg.max_decode_length and ftfy_would_keep(text, cfg):
        return text, []
    steps: list[str] = []
    out: list[str] = []
    pos = 0
    while pos < n:
        brk = text.find("\n", pos) + 1
        if brk == 0:
            brk = n
        if brk - pos > cfg.max_decode_length:
            brk = pos + cfg.max_decode_length
        segment = text[pos:brk]
        if cfg.unescape_html == "auto" and "<" in segment:
            cfg = cfg._replace(unescape_html=False)
        if ftfy_would_keep(segment, cfg):
            out.append(segment)
        else:
            out.append(_ftfy_fix_segment_steps(segment, cfg, steps))
        pos = brk
    return "".join(out), steps


# --- The fast path: when can ftfy not change a text? ---------------------------------------------
#
# ``ftfy.fix_and_explain`` runs these steps; each is a no-op on text without its trigger:
#   unescape_html            only replaces matches of ``chardata.HTML_ENTITY_RE`` ("&amp;", "&#8217;")
#   fix_encoding             only acts when ``ftfy.badness.is_bad`` finds a mojibake pattern
#                            (restore_byte_a0, replace_lossy_sequences and decode_inconsistent_utf8
#                            run inside it, after that test)
#   fix_c1_controls          U+0080..U+009F
#   fix_latin_ligatures      the keys of ``chardata.LIGATURES``
#   fix_character_width      the keys of ``chardata.WIDTH_MAP``
#   uncurl_quotes            ``chardata.SINGLE_QUOTE_RE`` / ``DOUBLE_QUOTE_RE``
#   fix_line_breaks          CR, U+2028, U+2029, U+0085
#   fix_surrogates           U+D800..U+DFFF
#   remove_terminal_escapes  an escape starts with ESC
#   remove_control_chars     the keys of ``chardata.CONTROL_CHARS``
#   normalization            ``unicodedata.is_normalized``
# The character triggers are one character class, searched in C. The mojibake test is ftfy's own
# pattern, but searched only around the characters it cannot match without (see
# :func:`_badness_anchor_chars`), which plain news text with curly quotes and dashes rarely has.


def _char_class(codepoints: Iterable[int]) -> str:
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        a, b = cps[i], cps[j]
        parts.append(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}")
        i = j + 1
    return "[" + "".join(parts) + "]" if parts else "(?!)"


@lru_cache(maxsize=16)
def _trigger_re(unescape_html: bool | str, ligatures: bool, width: bool, uncurl: bool, line_breaks: bool,
                surrogates: bool, escapes: bool, controls: bool, c1: bool) -> re.Pattern[str]:
    from ftfy import chardata
    cps: set[int] = set()
    if c1:
        cps.update(range(0x80, 0xA0))
    if ligatures:
        cps.update(chardata.LIGATURES)
    if width:
        cps.update(chardata.WIDTH_MAP)
    if uncurl:
        for rx in (chardata.SINGLE_QUOTE_RE, chardata.DOUBLE_QUOTE_RE):
            cps.update(c for c in range(0x110000) if rx.match(chr(c)))
    if line_breaks:
        cps.update((0x0D, 0x2028, 0x2029, 0x85))
    if surrogates:
        cps.update(range(0xD800, 0xE000))
    if escapes:
        cps.add(0x1B)
    if controls:
        cps.update(chardata.CONTROL_CHARS)
    return re.compile(_char_class(cps))


@lru_cache(maxsize=1)
def _entity_re() -> re.Pattern[str]:
    from ftfy import chardata
    return chardata.HTML_ENTITY_RE


def _set_codepoints(item) -> set[int] | None:  # type: ignore[no-untyped-def]
    """The characters one parsed regex element can match, if it is a plain positive set of
    non-ASCII characters; otherwise None."""
    op, av = item
    name = str(op)
    if name == "LITERAL":
        return {av} if av >= 0x80 else None
    if name != "IN":
        return None
    out: set[int] = set()
    for sop, sav in av:
        sname = str(sop)
        if sname == "LITERAL" and sav >= 0x80:
            out.add(sav)
        elif sname == "RANGE" and sav[0] >= 0x80:
            out.update(range(sav[0], sav[1] + 1))
        else:
            return None
    return out


# Characters of ordinary text, by how much an anchor on them would cost: typographic punctuation
# is on nearly every page, accented letters on pages of some languages. A mojibake branch is
# anchored on the set of its characters that costs least.
_TYPOGRAPHY = set(map(ord, "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00a0\u2022\u00b7\u00a9\u00ae\u00b0"))
_ACCENTED = set(map(ord, "\u00e9\u00e8\u00e0\u00e1\u00ed\u00f3\u00fa\u00fc\u00f6\u00e4\u00f1\u00e7\u00c9"))


def _anchor_cost(cps: set[int]) -> tuple[int, int]:
    return 20 * len(cps & _TYPOGRAPHY) + len(cps & _ACCENTED), len(cps)


@lru_cache(maxsize=1)
def _badness_anchor_chars() -> tuple[re.Pattern[str] | None, re.Pattern[str], int]:
    """(anchor class, ftfy's mojibake pattern with ``^`` at every line start, its longest match).

    Every branch of ftfy's pattern must match at least one character from a positive set of
    non-ASCII characters; the anchor class is the union of one such set per branch (the one
    least found in ordinary text). A text without any anchor character cannot match, and a match
    lies within the pattern's longest match of an anchor character. If some branch had no such
    set (another ftfy version), the anchor is None and the whole text is searched.
    """
    import re._parser as sre_parse  # the standard library's own parser of patterns

    from ftfy.badness import BADNESS_RE
    pattern = BADNESS_RE.pattern
    tree = sre_parse.parse(pattern, BADNESS_RE.flags)
    multiline = re.compile(pattern, BADNESS_RE.flags | re.MULTILINE)
    maxw = tree.getwidth()[1]
    items = list(tree)
    branches = items[0][1][1] if len(items) == 1 and str(items[0][0]) == "BRANCH" else [items]
    anchors: set[int] = set()
    for branch in branches:
        best: set[int] | None = None
        for item in branch:
            cps = _set_codepoints(item)
            if cps is None:
                continue
            if best is None or _anchor_cost(cps) < _anchor_cost(best):
                best = cps
        if best is None:
            return None, multiline, maxw
        anchors |= best
    return re.compile(_char_class(anchors)), multiline, maxw


def might_be_mojibake(text: str) -> bool:
    """True if some line of ``text`` may match ftfy's mojibake pattern (``is_bad``).

    False is exact: no line matches. True may be a false alarm (a match across a line break).
    """
    anchor, bad, maxw = _badness_anchor_chars()
    if anchor is None:
        return bad.search(text) is not None
    found = anchor.findall(text)
    if not found:
        return False
    n = len(text)
    if len(found) * maxw * 2 > n:  # dense: one pass over the whole text is cheaper
        return bad.search(text) is not None
    # A match holding the anchor at i lies within [i - maxw + 1, i + maxw).
    for m in anchor.finditer(text):
        i = m.start()
        if bad.search(text, max(0, i - maxw + 1), min(n, i + maxw)) is not None:
            return True
    return False


def ftfy_would_keep(text: str, cfg: ftfy.TextFixerConfig) -> bool:
    """True only if ``ftfy.fix_text(text, cfg)`` would return ``text`` unchanged.

    A False may be a false alarm; a True is exact (tested against ftfy itself).
    """
    if text.isascii():
        # Pure ASCII: only entities, escapes, controls and CR can change it.
        return not (_ascii_trigger_re().search(text) or ("&" in text and _entity_re().search(text)))
    trig, either = _fast_res(bool(cfg.fix_latin_ligatures), bool(cfg.fix_character_width),
                             bool(cfg.uncurl_quotes), bool(cfg.fix_line_breaks), bool(cfg.fix_surrogates),
                             bool(cfg.remove_terminal_escapes), bool(cfg.remove_control_chars),
                             bool(cfg.fix_c1_controls), bool(cfg.fix_encoding))
    if cfg.unescape_html and "&" in text and _entity_re().search(text):
        return False
    if cfg.normalization is not None and not unicodedata.is_normalized(cfg.normalization, text):
        return False
    if either.search(text) is None:  # no trigger and no mojibake anchor: one pass decides
        return True
    if trig.search(text):
        return False
    return not (cfg.fix_encoding and might_be_mojibake(text))


@lru_cache(maxsize=1)
def _ascii_trigger_re() -> re.Pattern[str]:
    return re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@lru_cache(maxsize=16)
def _fast_res(*flags: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(the character triggers of the enabled steps, the triggers plus the mojibake anchors)."""
    *steps, fix_encoding = flags
    trig = _trigger_re(False, *steps)
    anchor = _badness_anchor_chars()[0] if fix_encoding else None
    if fix_encoding and anchor is None:
        return trig, re.compile(r"[\s\S]")  # no anchors known: every non-ASCII text is searched
    either = trig.pattern if anchor is None else trig.pattern[:-1] + anchor.pattern[1:]  # one class
    return trig, re.compile(either)


def normalize_whitespace(text: str) -> tuple[str, list[str]]:
    """Normalise spaces and line ends; return the text and the fixes applied."""
    fixes: list[str] = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        fixes.append("normalize_line_breaks")
    if not _ANY_FIX_RE.search(text):  # most pages: one pass finds none of the three
        if "  " in text:
            text = _MULTISPACE_RE.sub(" ", text)
            fixes.append("collapse_spaces")
        return text, fixes
    if _SPACE_RE.search(text):
        text = _SPACE_RE.sub(" ", text)
        fixes.append("normalize_spaces")
    if _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
        fixes.append("remove_invisible_characters")
    if _LONE_SURROGATE_RE.search(text):
        text = _LONE_SURROGATE_RE.sub("\ufffd", text)
        fixes.append("replace_lone_surrogates")
    if "  " in text:
        text = _MULTISPACE_RE.sub(" ", text)
        fixes.append("collapse_spaces")
    return text, fixes


def repair(text: str, cfg: EncodingConfig, decode_fixes: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """Repair encoding and normalise whitespace; return the text and all fixes applied.

    The fix names are ftfy's own step names (``unescape_html``,
    ``encode:sloppy-windows-1252``, ``decode:utf-8``, ``remove_control_chars`` …)
    followed by this module's whitespace fixes and any byte-level fix the reader
    made while decoding (``decoded_windows_1252``).
    """
    fixes = list(decode_fixes)
    if cfg.enabled:
        text, steps = ftfy_fix(text, ftfy_config(cfg))
        fixes.extend(s for s in steps if s not in fixes)
    text, ws = normalize_whitespace(text)
    fixes.extend(ws)
    return text, fixes


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a repaired text: its non-blank lines, stripped.

    Scraped text marks paragraphs inconsistently (one newline or a blank line),
    so every line is a paragraph; blank lines carry no content.
    """
    return split_blocks(text)[0]


def split_blocks(text: str) -> tuple[list[str], list[int]]:
    """:func:`split_paragraphs`, plus the block of each paragraph: lines not
    separated by a blank line share a block (a hard-wrapped paragraph, a menu, a
    price box), which the line model reads as context."""
    out: list[str] = []
    blocks: list[int] = []
    block = 0
    blank = False
    for line in text.split("\n"):
        s = line.strip()
        if s:
            if blank and out:
                block += 1
            blank = False
            out.append(s)
            blocks.append(block)
        else:
            blank = True
    return out, blocks
