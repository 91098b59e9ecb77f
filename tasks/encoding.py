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
from functools import lru_cache

import ftfy

from scrapewash.config import EncodingConfig

# Unicode space separators other than U+0020 (category Zs), plus tab.
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_SPACE_RE = re.compile(f"[{_SPACES}\t]")
_INVISIBLE_RE = re.compile("[\u200b\ufeff\u00ad\u2060]")
_MULTISPACE_RE = re.compile(" {2,}")
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Characters that can make ftfy change ASCII text: entities, escapes, controls, CR.
_ASCII_TRIGGERS = re.compile(r"[&\x00-\x08\x0b-\x1f\x7f]")


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


def ftfy_fix(text: str, config: ftfy.TextFixerConfig) -> tuple[str, list[str]]:
    """Exactly ``ftfy.fix_text(text, config)``, plus the names of the steps applied.

    Like ``fix_text`` it works line by line (ftfy's segments), so results do
    not depend on how much text is fixed at once. Plain ASCII text without
    entities, control characters or carriage returns is returned as it is:
    ftfy cannot change it (tested against ftfy itself).
    """
    if text.isascii() and not _ASCII_TRIGGERS.search(text) and "\r" not in text:
        return text, []
    steps: list[str] = []
    out: list[str] = []
    pos = 0
    cfg = config
    n = len(text)
    while pos < n:
        brk = text.find("\n", pos) + 1
        if brk == 0:
            brk = n
        if brk - pos > cfg.max_decode_length:
            brk = pos + cfg.max_decode_length
        segment = text[pos:brk]
        if cfg.unescape_html == "auto" and "<" in segment:
            cfg = cfg._replace(unescape_html=False)
        if segment.isascii() and not _ASCII_TRIGGERS.search(segment) and "\r" not in segment:
            out.append(segment)
        else:
            fixed, explanation = ftfy.fix_and_explain(segment, cfg)
            out.append(fixed)
            for kind, name in explanation or ():
                s = _step_name(kind, name)
                if s not in steps:
                    steps.append(s)
        pos = brk
    return "".join(out), steps


def normalize_whitespace(text: str) -> tuple[str, list[str]]:
    """Normalise spaces and line ends; return the text and the fixes applied."""
    fixes: list[str] = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        fixes.append("normalize_line_breaks")
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
