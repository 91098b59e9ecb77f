"""Encoding repair: exactly ftfy's output under the chosen configuration, with the fixes named."""

from __future__ import annotations

import json

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EVALDATA, need_shared
from scrapewash.config import EncodingConfig
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
