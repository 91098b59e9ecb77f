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
    fixed, explanation = fix_and_explain(segment, cfg)
    for kind, name in explanation or ():
        s = _step_name(kind, name)
        if s not in steps:
            steps.append(s)
    return fixed


def ftfy_fix(text: str, config: ftfy.TextFixerConfig, unusual: str | None = None) -> tuple[str, list[str]]:
    """Exactly ``ftfy.fix_text(text, config)``, plus the names of the steps applied.

    Like ``fix_text`` it works line by line (ftfy's segments), so results do
    not depend on how much text is fixed at once. Text that ftfy cannot change
    (see :func:`ftfy_would_keep`) is returned as it is without calling ftfy; on
    a page that may need repair only the lines holding a character that could
    change something are looked at (:func:`_hot_positions`). The equality with
    ftfy is tested on generated text, on ftfy's own test cases and on the
    evaluation sets. ``unusual``: :func:`unusual_chars` of ``text``, if known.
    """
    cfg = config
    n = len(text)
    if n <= cfg.max_decode_length:
        rare = unusual if unusual is not None or text.isascii() else unusual_chars(text)
        if ftfy_would_keep(text, cfg, rare):
            return text, []
        return _fix_hot_lines(text, cfg, _hot_positions(text, cfg, unusual_chars(text) if rare is None else rare))
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


def _hot_positions(text: str, cfg: ftfy.TextFixerConfig, rare: str) -> list[int]:
    """Positions, in order, of the characters that can make :func:`ftfy_would_keep` say False for
    the line that holds them: trigger characters, mojibake anchors and ASCII controls, characters
    that can be out of normal form, and the starts of HTML entities. A line holding none of them is
    one ftfy keeps as it is (every test of :func:`ftfy_would_keep` looks for one of them)."""
    _, either = _check_res(cfg)
    chars = set(rare)
    unsafe = _unsafe_chars(cfg.normalization, chars) if cfg.normalization is not None else set()
    ascii_trigger = _ascii_trigger_re()
    hot = [c for c in chars if c in unsafe or either.match(c) or ascii_trigger.match(c)]
    positions: list[int] = []
    for c in hot:
        i = text.find(c)
        while i >= 0:
            positions.append(i)
            i = text.find(c, i + 1)
    if cfg.unescape_html and "&" in text:
        positions.extend(m.start() for m in _entity_re().finditer(text))
    positions.sort()
    return positions


def _fix_hot_lines(text: str, cfg: ftfy.TextFixerConfig, hot: list[int]) -> tuple[str, list[str]]:
    """:func:`ftfy_fix` of a text no longer than ftfy's ``max_decode_length`` (so its segments are
    its lines): the lines without a hot position (:func:`_hot_positions`) are copied in runs, the
    others are checked and repaired one by one, as ftfy does."""
    steps: list[str] = []
    out: list[str] = []
    done = 0  # text[:done] is handled
    first_lt = text.find("<") if cfg.unescape_html == "auto" else -1
    for h in hot:
        if h < done:
            continue
        start = text.rfind("\n", 0, h) + 1
        end = text.find("\n", h) + 1 or len(text)
        if start > done:
            out.append(text[done:start])
        segment = text[start:end]
        seg_cfg = cfg._replace(unescape_html=False) if 0 <= first_lt < end else cfg  # ftfy: from the first "<" on
        if ftfy_would_keep(segment, seg_cfg):
            out.append(segment)
        else:
            out.append(_ftfy_fix_segment_steps(segment, seg_cfg, steps))
        done = end
    if done < len(text):
        out.append(text[done:])
    return "".join(out), steps


# ftfy's per-segment steps, in the order ``ftfy.fix_and_explain`` runs them after ``unescape_html``
# and ``fix_encoding``; each is skipped on a segment without its trigger characters.
_FIXER_STEPS = ("fix_c1_controls", "fix_latin_ligatures", "fix_character_width", "uncurl_quotes",
                "fix_line_breaks", "fix_surrogates", "remove_terminal_escapes", "remove_control_chars")


def fix_and_explain(text: str, cfg: ftfy.TextFixerConfig) -> tuple[str, list[tuple[str, str]]]:
    """Exactly ``ftfy.fix_and_explain(text, cfg)`` for one segment (``cfg.explain`` set): the
    same text and the same explanation.

    ftfy runs every enabled step on the segment until a round changes nothing, and its mojibake
    test reads the whole segment at each call (two or three times per fixed segment). Here each
    step runs only when the segment holds something it can change: its trigger characters, an
    ``&`` for entities, a mojibake anchor for the encoding fix (:func:`might_be_mojibake`, whose
    False is exact), a character that can be out of normal form. A step skipped is one that ftfy
    would have run without effect, so the result and the explanation are ftfy's (tested on
    generated text, ftfy's own cases and the evaluation sets).
    """
    if cfg.unescape_html == "auto" and "<" in text:
        cfg = cfg._replace(unescape_html=False)
    steps: list[tuple[str, str]] = []
    fixers = _segment_fixers(*(bool(getattr(cfg, name)) for name in _FIXER_STEPS))
    entities = ftfy.FIXERS["unescape_html"]
    while True:
        before = text
        if cfg.unescape_html and "&" in text:
            fixed = entities(text)
            if fixed != text:
                steps.append(ftfy.ExplanationStep("apply", "unescape_html"))
            text = fixed
        if cfg.fix_encoding:
            text = _fix_encoding(text, cfg, steps)
        rare = unusual_chars(text)
        for name, fixer, trigger in fixers:
            if trigger.search(rare):
                fixed = fixer(text)
                if fixed != text:
                    steps.append(ftfy.ExplanationStep("apply", name))
                    text = fixed
                    rare = unusual_chars(text)
        if cfg.normalization is not None and not _normalized(cfg.normalization, text, rare):
            fixed = unicodedata.normalize(cfg.normalization, text)
            if fixed != text:
                steps.append(ftfy.ExplanationStep("normalize", cfg.normalization))
            text = fixed
        if text == before:
            return text, steps


def _fix_encoding(text: str, cfg: ftfy.TextFixerConfig, steps: list[tuple[str, str]]) -> str:
    """``ftfy.fix_encoding_and_explain``: ftfy's mojibake repair, one step at a time until a step
    changes nothing. A step on ASCII text, or on text without ftfy's mojibake pattern (decided
    by :func:`might_be_mojibake`, whose False is exact), returns it unchanged, so it is not run:
    on a repaired segment this saves ftfy's own pattern search of the result."""
    one_step = getattr(ftfy, "_fix_encoding_one_step_and_explain", None)
    if one_step is None:  # another ftfy release: its public function, whole
        text, plan = ftfy.fix_encoding_and_explain(text, cfg)
        steps.extend(plan or ())
        return text
    while not text.isascii() and might_be_mojibake(text):
        before = text
        text, plan = one_step(text, cfg)
        steps.extend(plan or ())
        if text == before:
            break
    return text


@lru_cache(maxsize=16)
def _segment_fixers(*enabled: bool) -> tuple[tuple[str, object, re.Pattern[str]], ...]:
    """(name, ftfy's function, its trigger characters) of each enabled step, in ftfy's order."""
    out = []
    for i, (name, on) in enumerate(zip(_FIXER_STEPS, enabled, strict=True)):
        if on:
            flags = [False] * len(_FIXER_STEPS)
            flags[i] = True
            c1, ligatures, width, uncurl, line_breaks, surrogates, escapes, controls = flags
            out.append((name, ftfy.FIXERS[name],
                        _trigger_re(False, ligatures, width, uncurl, line_breaks, surrogates, escapes, controls, c1)))
    return tuple(out)


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


def ftfy_would_keep(text: str, cfg: ftfy.TextFixerConfig, unusual: str | None = None) -> bool:
    """True only if ``ftfy.fix_text(text, cfg)`` would return ``text`` unchanged.

    A False may be a false alarm; a True is exact (tested against ftfy itself). ``unusual``:
    :func:`unusual_chars` of ``text``, if the caller has it.
    """
    if text.isascii():
        # Pure ASCII: only entities, escapes, controls and CR can change it.
        return not (_ascii_trigger_re().search(text) or ("&" in text and _entity_re().search(text)))
    trig, either = _check_res(cfg)
    if cfg.unescape_html and "&" in text and _entity_re().search(text):
        return False
    # Every trigger and anchor is a character that is not printable ASCII: search only those.
    rare = unusual_chars(text) if unusual is None else unusual
    if cfg.normalization is not None and not _normalized(cfg.normalization, text, rare):
        return False
    if either.search(rare) is None:  # no trigger and no mojibake anchor: one pass decides
        return True
    if trig.search(rare):
        return False
    return not (cfg.fix_encoding and might_be_mojibake(text))


# The bytes of printable ASCII and the line feed: the characters that no ftfy step and no
# whitespace fix acts on alone. Deleting them from a text's UTF-8 leaves the other characters whole
# (their bytes are all >= 0x80, or ASCII controls), in order.
_ORDINARY_BYTES = bytes(range(0x20, 0x7F)) + b"\n"


def unusual_chars(text: str) -> str:
    """The characters of ``text`` other than printable ASCII and line feeds, in order.

    A character class without printable ASCII and line feeds finds a match in this string if and
    only if it finds one in ``text``; the string is short (on news pages a few dozen quotes and
    dashes), so searching it costs a fraction of searching the text. Lone surrogates are kept.
    """
    return text.encode("utf-8", "surrogatepass").translate(None, _ORDINARY_BYTES).decode("utf-8", "surrogatepass")


def _normalized(form: str, text: str, rare: str) -> bool:
    """``unicodedata.is_normalized(form, text)``, without reading the text when none of its
    characters can matter: a text of characters that are their own normal form, have canonical
    combining class 0 and never compose with the character before them is normalized (its quick
    check answers Yes). Printable ASCII is such; ``rare`` holds the text's other characters."""
    if not _unsafe_chars(form, set(rare)):
        return True
    return unicodedata.is_normalized(form, text)


def _unsafe_chars(form: str, chars: set[str]) -> set[str]:
    """The characters of ``chars`` that can make a text not normalized for ``form`` (see
    :func:`_normalized`); each character is judged once per process."""
    safe, unsafe = _norm_classes(form)
    for c in chars - safe - unsafe:
        (safe if _norm_safe(form, c) else unsafe).add(c)
    return chars & unsafe


@lru_cache(maxsize=8)
def _norm_classes(form: str) -> tuple[set[str], set[str]]:
    """The characters seen so far, by whether they are safe for ``form`` (see :func:`_normalized`)."""
    return set(), set()


def _norm_safe(form: str, c: str) -> bool:
    return (unicodedata.combining(c) == 0 and unicodedata.normalize(form, c) == c
            and ord(c) not in _composing_seconds())


# Hangul syllables compose from jamo by formula, not by decomposition entries: a vowel or trailing
# consonant jamo may compose with the character before it.
_HANGUL_JAMO = range(0x1100, 0x1200)


@lru_cache(maxsize=1)
def _composing_seconds(limit: int = 0x20000) -> frozenset[int]:
    """Characters that may compose with the character before them (Unicode's NFC quick check
    Maybe): the second character of every two-character canonical decomposition, and the Hangul
    jamo. Only the first two planes hold such decompositions (tested against all of Unicode)."""
    out = set(_HANGUL_JAMO)
    for cp in range(limit):
        d = unicodedata.decomposition(chr(cp))
        if d and d[0] != "<":
            parts = d.split()
            if len(parts) == 2:
                out.add(int(parts[1], 16))
    return frozenset(out)


@lru_cache(maxsize=1)
def _ascii_trigger_re() -> re.Pattern[str]:
    return re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _check_res(cfg: ftfy.TextFixerConfig) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """:func:`_fast_res` for the steps ``cfg`` enables."""
    return _fast_res(bool(cfg.fix_latin_ligatures), bool(cfg.fix_character_width), bool(cfg.uncurl_quotes),
                     bool(cfg.fix_line_breaks), bool(cfg.fix_surrogates), bool(cfg.remove_terminal_escapes),
                     bool(cfg.remove_control_chars), bool(cfg.fix_c1_controls), bool(cfg.fix_encoding))


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


def normalize_whitespace(text: str, unusual: str | None = None) -> tuple[str, list[str]]:
    """Normalise spaces and line ends; return the text and the fixes applied. ``unusual``:
    :func:`unusual_chars` of ``text``, if known."""
    fixes: list[str] = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        fixes.append("normalize_line_breaks")
        unusual = None
    # Tabs and the characters below are none of them printable ASCII: most pages have none.
    if text.isascii():
        found = "\t" in text
    else:
        found = _ANY_FIX_RE.search(unusual_chars(text) if unusual is None else unusual) is not None
    if not found:
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
    rare = None if text.isascii() else unusual_chars(text)
    if cfg.enabled:
        fixed, steps = ftfy_fix(text, ftfy_config(cfg), rare)
        fixes.extend(s for s in steps if s not in fixes)
        if fixed is not text:
            text, rare = fixed, None
    text, ws = normalize_whitespace(text, rare)
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
