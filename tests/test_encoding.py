"""Encoding repair: exactly ftfy's output under the chosen configuration, with the fixes named."""

from __future__ import annotations

import json
import re
import unicodedata

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EVALDATA, need_shared
from scrapewash.config import EncodingConfig
from scrapewash.tasks import encoding as enc
from scrapewash.tasks.encoding import ftfy_config, ftfy_fix, normalize_whitespace, repair, split_paragraphs

CFG = EncodingConfig()
FTFY = ftfy_config(CFG)


def reference(text: str) -> str:
    return ftfy.fix_text(text, FTFY._replace(explain=False))


def test_configuration_is_deliberate():
    assert FTFY.unescape_html is True
    assert FTFY.uncurl_quotes is False
    assert FTFY.fix_character_width is False
    assert FTFY.normalization == "NFC"


@pytest.mark.parametrize(
    "text",
    ["plain ascii", "donâ€™t", "caf&eacute; &amp; bar", "a\r\nb\rc", "ctrl\x00\x07x", "\x1b[31mred\x1b[0m",
     "“curly” stays", "ﬁne ligature", "ＦＵＬＬ width", "line one\nâ€œquoteâ€\x9d\nthree", "e\u0301"],
)
def test_same_text_as_ftfy(text):
    fixed, steps = ftfy_fix(text, FTFY)
    assert fixed == reference(text)
    assert bool(steps) == (fixed != text) or text.isascii()


def test_fix_names_recorded():
    text, fixes = repair("donâ€™t\u00a0stop &amp; go\u200b", CFG)
    assert text == "don’t stop & go"
    assert "unescape_html" in fixes
    assert any(f.startswith(("decode", "encode")) or f == "decode_inconsistent_utf8" for f in fixes)
    assert "normalize_spaces" in fixes and "remove_invisible_characters" in fixes
    assert repair("Nothing to fix here.", CFG) == ("Nothing to fix here.", [])


def test_whitespace_normalisation():
    assert normalize_whitespace("a\u00a0\u00a0b\u2009c\u00adx") == ("a b cx", ["normalize_spaces",
                                                                            "remove_invisible_characters",
                                                                            "collapse_spaces"])
    assert split_paragraphs("  one \n\n\n two\n \t \nthree  ") == ["one", "two", "three"]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_equals_ftfy_on_arbitrary_text(text):
    assert ftfy_fix(text, FTFY)[0] == reference(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "&amp;", "&", "\r", "\n", "\x00", "é", "Ã©", "â€™", " ", "\u00a0",
                                  "\x1b[0m", "<b>", "ﬁ", "\x85", "x" * 5]), max_size=40))
def test_equals_ftfy_on_tricky_mixtures(parts):
    text = "".join(parts)
    assert ftfy_fix(text, FTFY)[0] == reference(text)


def test_ftfy_own_cases():
    folder = need_shared(EVALDATA / "ftfy-test-cases")
    n = 0
    for f in sorted(folder.glob("*.json")):
        for case in json.loads(f.read_text(encoding="utf-8")):
            assert ftfy_fix(case["original"], FTFY)[0] == reference(case["original"]), case["label"]
            n += 1
    assert n > 100


def test_split_blocks_numbers_blank_line_separated_blocks():
    from scrapewash.tasks.encoding import split_blocks

    paras, blocks = split_blocks("\n  Home \nNews\n\n \nBetween 2015 and\n2018, 13% of children\n\nEnd.\n\n")
    assert paras == ["Home", "News", "Between 2015 and", "2018, 13% of children", "End."]
    assert blocks == [0, 0, 1, 1, 2]
    assert split_blocks("") == ([], [])
    assert split_paragraphs("a\n\nb") == split_blocks("a\n\nb")[0]


# --- The fast path (ftfy_would_keep): a True must always be exact --------------------------------

from ftfy.badness import is_bad  # noqa: E402

from scrapewash.tasks.encoding import _badness_anchor_chars, ftfy_would_keep, might_be_mojibake  # noqa: E402

# Mojibake fragments, anchors and triggers, mixed with the typography of ordinary text.
_PIECES = ["a", "the ", "AT&T", "&amp;", "&#8217;", "&eacute;", "&", ";", " ", "\n", "\n\n", "\r\n", "\u2028",
           "é", "É", "ü", "Ã", "Â", "Ã©", "Â ", "â€™", "â€œ", "â€", "Ã ", " Ã ", "Ã\xa0", "Ã¡", "Â°", "Ã‰", "Ñ",
           "В", "Г", "вЂ", "ГўВЂВ", "Œ", "œ", "×²", "√±", "‚Ä", "β€", "ā€", "à²", "ØØ", "Ø",
           "’", "‘", "“", "”", "–", "—", "…", "•", "·", "©", "®", "™", "°", "€", "£", "¢", "¶", "§", "¨", "½",
           "\xa0", "\xad", "\x85", "\x93", "\x00", "\x1b[1m", "ﬁ", "Ĳ", "Ｆ", "\u3000", "e\u0301", "\u0301",
           "\u200b", "\ufeff", "\u206a", "\U000e0041", "\ud800", "x" * 10, "<p>", "1", "²", "³"]
_CONFIGS = [FTFY,
            FTFY._replace(uncurl_quotes=True, fix_character_width=True, normalization="NFKC"),
            FTFY._replace(unescape_html="auto", normalization=None, fix_latin_ligatures=False),
            FTFY._replace(fix_encoding=False, fix_line_breaks=False, remove_control_chars=False),
            ftfy.TextFixerConfig(explain=True)]


def _assert_fast_path_exact(text: str, cfg: ftfy.TextFixerConfig, label: str = "") -> None:
    """A True from the fast path means ftfy keeps the text; ftfy_fix always equals ftfy; the segment
    repair gives ftfy's text and explanation for every segment."""
    expected = ftfy.fix_text(text, cfg._replace(explain=False))
    if ftfy_would_keep(text, cfg):
        assert expected == text, label
    assert ftfy_fix(text, cfg)[0] == expected, label
    for seg in _ftfy_segments(text):
        want_text, want_steps = ftfy.fix_and_explain(seg, cfg)
        got_text, got_steps = enc.fix_and_explain(seg, cfg)
        assert got_text == want_text, (label, seg)
        assert [tuple(x) for x in got_steps] == [tuple(x) for x in want_steps], (label, seg)


def _ftfy_segments(text: str) -> list[str]:
    """ftfy's segments of a text shorter than its max_decode_length: split after each line feed only
    (not at CR, U+2028 or the other line breaks)."""
    return re.findall(r"[^\n]*\n|[^\n]+", text)


def _ftfy_fix_names(text: str, cfg: ftfy.TextFixerConfig = FTFY) -> list[str]:
    """The fix names ftfy's own explanations give, segment by segment, each once, in order."""
    names: list[str] = []
    for seg in _ftfy_segments(text):
        for kind, name in ftfy.fix_and_explain(seg, cfg).explanation:
            step = enc._step_name(kind, name)
            if step not in names:
                names.append(step)
    return names


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.sampled_from(range(len(_CONFIGS))))
def test_fast_path_equals_ftfy_on_mixtures(parts, ci):
    _assert_fast_path_exact("".join(parts), _CONFIGS[ci])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.characters(codec="utf-8")), max_size=40),
       st.sampled_from(range(len(_CONFIGS))))
def test_fast_path_equals_ftfy_on_arbitrary_text(parts, ci):
    _assert_fast_path_exact("".join(parts), _CONFIGS[ci])


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_mojibake_prefilter_never_misses_a_line(parts):
    text = "".join(parts)
    if not might_be_mojibake(text):
        # ftfy's segments: split after each "\n" only (not at U+2028 and the other line breaks)
        *full, last = text.split("\n")
        assert not any(is_bad(seg) for seg in [s + "\n" for s in full] + [last])


def test_every_mojibake_pattern_branch_has_an_anchor():
    # Without anchors the check still holds but searches every non-ASCII text whole (slow).
    anchor, _, maxw = _badness_anchor_chars()
    assert anchor is not None and 2 <= maxw <= 16
    for typographic in "’“”–—…\xa0":
        assert not anchor.search(typographic), typographic


def test_fast_path_on_ftfy_own_cases_under_every_configuration():
    folder = need_shared(EVALDATA / "ftfy-test-cases")
    n = fixed = 0
    for f in sorted(folder.glob("*.json")):
        for case in json.loads(f.read_text(encoding="utf-8")):
            for cfg in _CONFIGS:
                _assert_fast_path_exact(case["original"], cfg, case["label"])
                n += 1
                fixed += ftfy.fix_text(case["original"], cfg._replace(explain=False)) != case["original"]
    assert n > 500 and fixed > 200  # most cases are real repairs, not pass-throughs


@pytest.mark.slow
@pytest.mark.parametrize("path", ["scrapinghub-aeb/recall.jsonl.gz", "scrapinghub-aeb/dump.jsonl.gz",
                                  "wcxb-dev/recall.jsonl.gz", "wcxb-dev/dump.jsonl.gz"])
def test_fast_path_equals_ftfy_on_the_dev_sets(path):
    import gzip

    f = need_shared(EVALDATA / path)
    kept = n = changed = 0
    with gzip.open(f, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            expected = reference(text)
            if ftfy_would_keep(text, FTFY):
                kept += 1
                assert expected == text
            fixed, steps = ftfy_fix(text, FTFY)
            assert fixed == expected
            if fixed != text:  # the fix names are ftfy's own explanation, segment by segment
                assert steps == _ftfy_fix_names(text)
                changed += 1
            n += 1
    assert n > 100 and kept > n // 2  # the fast path takes most pages
    assert changed > 0 or path == "scrapinghub-aeb/recall.jsonl.gz"  # the one set ftfy has nothing to repair in


def _normalize_whitespace_reference(text):
    from scrapewash.tasks import encoding as e

    fixes = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        fixes.append("normalize_line_breaks")
    for rx, sub, name in ((e._SPACE_RE, " ", "normalize_spaces"), (e._INVISIBLE_RE, "", "remove_invisible_characters"),
                          (e._LONE_SURROGATE_RE, "\ufffd", "replace_lone_surrogates")):
        if rx.search(text):
            text = rx.sub(sub, text)
            fixes.append(name)
    if "  " in text:
        text = e._MULTISPACE_RE.sub(" ", text)
        fixes.append("collapse_spaces")
    return text, fixes


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["a", "word", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u200b",
                                 "\ufeff", "\u00ad", "\u2060", "\ud800", "\udfff", "é", "’"]), max_size=20).map("".join))
def test_normalize_whitespace_equals_its_step_by_step_reference(text):
    assert normalize_whitespace(text) == _normalize_whitespace_reference(text)


# --- ftfy's steps, each skipped when it has nothing to change (fix_and_explain) -------------------


def test_fix_names_of_a_mojibake_page_are_ftfy_own():
    page = "Title\nThe mayorâ€™s plan costs â‚¬5 &amp; more\nplain line\nﬁnal cafÃ©\r\n"
    fixed, steps = ftfy_fix(page, FTFY)
    assert fixed == reference(page)
    assert steps == _ftfy_fix_names(page) and "decode:utf-8" in steps and "unescape_html" in steps


def test_unusual_characters_hold_every_trigger():
    """The searches that read only the characters other than printable ASCII and line feeds must
    never match one of those."""
    ordinary = [chr(b) for b in enc._ORDINARY_BYTES]
    patterns = [enc._ANY_FIX_RE]
    for cfg in _CONFIGS:
        patterns.extend(enc._check_res(cfg))
        patterns.extend(rx for _, _, rx in enc._segment_fixers(*(bool(getattr(cfg, x)) for x in enc._FIXER_STEPS)))
    patterns.append(enc._badness_anchor_chars()[0])
    for rx in patterns:
        assert not any(rx.match(c) for c in ordinary), rx.pattern[:40]
    assert enc.unusual_chars("a\u2019b\tc\r\n\x00\ud800\U0001f600 d") == "\u2019\t\r\x00\ud800\U0001f600"
    assert enc.unusual_chars("plain\ntext") == ""


_NORM_PIECES = ["a", "e", "E", "o", "\u0301", "\u0300", "\u0327", "\u0308", "\u05b0", "\u0591", "\u1100", "\u1161",
                "\u11a8", "\uac00", "\u0915", "\u093c", "\u0958", "\u2126", "\u212b", "\u0340", "\ufb01", "\u00bd",
                "\u00e9", "\u1e0b", "\u0323", "\u0cbf", "\u0cd5", "\u0dd9", "\u0dcf", "\u3099", "\u304b",
                "\U0001d15e", "\U00011099", "\U000110ba", "\U0001d400", "\u2019", "\u00a0", " ", "\n",
                # pairs that compose: a starter and a character that composes with it (quick check Maybe)
                "\u1100\u1161", "\uac00\u11a8", "\u0cbf\u0cd5", "\u0dd9\u0dcf", "\u304b\u3099", "e\u0301",
                "\U00011099\U000110ba"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_NORM_PIECES), st.characters(codec="utf-8")), max_size=20),
       st.sampled_from(["NFC", "NFKC", "NFD", "NFKD"]))
def test_normalization_check_equals_unicodedata(parts, form):
    text = "".join(parts)
    assert enc._normalized(form, text, enc.unusual_chars(text)) == unicodedata.is_normalized(form, text)


@pytest.mark.parametrize("form", ["NFC", "NFKC"])
def test_characters_judged_safe_never_make_a_text_unnormalized(form):
    """Every character of the first two planes that the check skips, after and before letters,
    jamo and composable marks, leaves the text normalized."""
    around = ["a", "e", "\u1100", "\uac00", "\u0915", "\u0cc6", "\u0dd9", "\U00011099"]
    skipped = 0
    for cp in range(0x80, 0x20000):
        c = chr(cp)
        if 0xD800 <= cp < 0xE000 or not enc._norm_safe(form, c):
            continue
        skipped += 1
        for x in around:
            if unicodedata.is_normalized(form, x):
                assert unicodedata.is_normalized(form, x + c + x), (form, hex(cp), x)
    assert skipped > 50_000


def test_composing_characters_lie_in_the_first_two_planes():
    assert enc._composing_seconds(0x20000) == enc._composing_seconds(0x110000)
    assert 0x0301 in enc._composing_seconds() and 0x1161 in enc._composing_seconds()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", " ", "  ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u200b", "\ud800", "é",
                                 "’"]), max_size=20).map("".join))
def test_normalize_whitespace_with_known_unusual_characters(text):
    assert normalize_whitespace(text, enc.unusual_chars(text)) == normalize_whitespace(text)
