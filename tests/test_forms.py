"""The compiled pass for exact-match keys and template forms equals their regular-expression
definitions (:func:`repeats.paragraph_key_reference`, :func:`templates.template_form`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scrapewash.tasks import forms, repeats, templates


def _check(paragraphs: list[str]) -> list[int]:
    """Assert the pass's key and form of each paragraph it reads; return those it leaves."""
    made = forms.keys_and_forms(paragraphs)
    assert made is not None
    keys, utf8, elsewhere = made
    assert len(keys) == len(utf8) == len(paragraphs)
    for i, p in enumerate(paragraphs):
        if i in elsewhere:
            assert keys[i] == utf8[i] == b""
            continue
        assert (keys[i].decode("utf-8") or p.strip()) == repeats.paragraph_key_reference(p), repr(p)
        assert utf8[i].decode("utf-8") == templates.template_form(p), repr(p)
    return elsewhere


def test_every_character_of_the_tables():
    """Every character of Unicode's first four planes, alone, between letters, and next to digits and
    a month name, as the patterns read it."""
    chars = [chr(c) for c in range(1, 0x40000) if not 0xD800 <= c <= 0xDFFF]  # NUL joins the paragraphs
    for shape in ("{}", "a{}b", "1{}2 may{} x_{}_9"):
        assert _check([shape.format(c, c, c) for c in chars]) == []


def test_paragraphs_in_many_scripts():
    paras = ["Monday, 12 March 2024 — JAN_5 and Jan 5th…", "__", "", "   ", "Straße: ﬁnance İstanbul ΣΟΦΙΑ",
             "a١٢b x² 1,000.50 go", "MAY the 4th be with you, sept. SEPTEMBER septembers", "日本語のテキスト 2024年",
             "Москва, 5 ДЕКАБРЯ — «Новости»", "e\u0301te\u0301 naïve", "Fans 😀 cheered", "tag\U000e0041 here",
             "©2019 Example Inc. All rights reserved.", "wed. THU fri_day mon2"]
    assert _check(paras) == [11]  # the one character beyond the tables' planes
    assert templates.template_keys(paras) == templates.template_keys_reference(paras)


def test_the_date_names_are_the_templates_own():
    assert set(forms.DATE_NAMES) == set(templates._DATE_NAMES)


def test_a_paragraph_holding_nul_leaves_the_batch_to_the_patterns():
    paras = ["a\x00b Monday", "Tuesday 5"]
    assert forms.keys_and_forms(paras) is None
    assert templates.template_keys(paras) == templates.template_keys_reference(paras)


_ATOMS = ["Word", "word", "WORD", "may", "May", "sept", "Sunday", "jan", "_", "__", "12", "٣", "²", " ", "  ", "\n",
          ",", ".", "-", "’", "—", "ß", "ẞ", "ﬁ", "İ", "Σ", "ς", "K", "ſ", "é", "e\u0301", "漢", "ภา", "😀",
          "\U000e0041", "\U00010400", "\x00", "\u00a0", "\u2028", "x" * 13, "januaryx"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_ATOMS), max_size=25).map("".join), max_size=8))
def test_keys_and_forms_equal_the_patterns(paragraphs):
    made = forms.keys_and_forms(paragraphs)
    if any("\x00" in p for p in paragraphs):
        assert made is None
    else:
        elsewhere = _check(paragraphs)
        assert elsewhere == [i for i, p in enumerate(paragraphs) if any(ord(c) >= 0x40000 for c in p)]
    assert templates.template_keys(paragraphs) == templates.template_keys_reference(paragraphs)


def _pages():
    """The bundled sample pages and, when the shared data is there, the evaluation sets' raw dumps."""
    import gzip
    import json

    from conftest import EVALDATA, SAMPLES

    pages = [p.read_bytes().decode("utf-8", "replace") for p in sorted(SAMPLES.rglob("*.txt"))]
    for name in ("scrapinghub-aeb/dump.jsonl.gz", "wcxb-dev/dump.jsonl.gz"):
        path = EVALDATA / name
        if path.exists():
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                pages += [json.loads(line)["text"] for k, line in enumerate(fh) if k % 4 == 0]
    return pages


def test_cleaning_shares_one_forms_pass_with_the_repeats_and_the_template_keys():
    """The keys the in-page repeats compare and the template keys the corpus stages count, taken
    from the one forms pass of the cleaning, equal those made from the paragraphs' text."""
    from scrapewash.config import Config
    from scrapewash.records import RawDocument
    from scrapewash.tasks.clean import Cleaner

    cfg = Config()
    cleaner = Cleaner(cfg)
    r = cfg.repeats
    pages = _pages()
    assert len(pages) >= 5
    shared = 0
    for k, text in enumerate(pages):
        doc = cleaner.clean(RawDocument(f"d{k}", text, "s", str(k), k))
        assert templates.keys_of_forms(doc.paragraphs, doc.kept_indexes, doc.forms) == templates.template_keys(
            doc.paragraphs)
        low = [x for x in doc.removals if x.reason == "low_content"]
        assert templates.keys_of_forms([x.text for x in low], [x.paragraph_index for x in low], doc.forms) == \
            templates.template_keys([x.text for x in low])
        shared += doc.forms is not None and len(doc.forms) >= len(doc.paragraphs)
        # the repeats decide alike with the shared keys and with their own
        paras = [x for x in text.split("\n") if x.strip()][:200]
        made = forms.keys_and_forms(paras)
        if made is not None:
            args = (r.near, r.near_threshold, r.near_min_words, r.min_words, r.scope, r.min_block)
            own = repeats.remove_repeats("d", list(paras), *args)
            with_keys = repeats.remove_repeats("d", list(paras), *args, keys=repeats.exact_keys(made, paras))
            assert own == with_keys
            assert repeats.exact_keys(made, paras) == [repeats.paragraph_key(p).encode("utf-8", "surrogatepass")
                                                       for p in paras]
    assert shared >= len(pages) * 0.9
