"""The fast paths of the per-document cleaning give exactly what their plain references give.

* rule matching: an Aho-Corasick prefilter on the literals each rule needs, then the rules in pack
  order (reference: one alternation of all rules);
* line features: tokens, function words and character counts read off the page's code points, and
  the context and block features, by compiled code, with page-wide regex passes (reference:
  :func:`content._describe` line by line and the context in numpy);
* the line model's trees walked by compiled code (reference: numpy, all trees at once);
* the exact-match and template forms of paragraphs by byte translation (references: regex
  substitutions), and
  the token hashes of a page's paragraphs in one compiled pass (reference: paragraph by paragraph).

Generated text aims at the edges of each shortcut: letters that match ASCII only under
IGNORECASE (İ ı ſ K), separators at line ends, e-mails and handles at line starts, NUL bytes,
characters outside the BMP, function words in other cases and letters Python lower-cases to two
characters (İ) or by context (Σ).
"""

from __future__ import annotations

import copy
import gzip
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EVALDATA, need_shared
from scrapewash.config import Config
from scrapewash.tasks import boilerplate, content, encoding, forms, minhash, repeats, templates
from scrapewash.tasks.boilerplate import load_rules, match_form, required_literals, word_count

RULES = load_rules()
MODEL = content.load_model()
STAGES = [m for m in (MODEL.first, MODEL) if m is not None]  # a two-stage model's first stage, then itself
WIDTH = len(content.ALL_FEATURES)  # what a two-stage model's rows hold (a one-stage model reads the first columns)
RULES_WHOLE_SUFFIX = copy.copy(RULES)  # the suffix prefilter reading the whole paragraph
RULES_WHOLE_SUFFIX._suffix_width = None

_ATOMS = ["Privacy Policy", "All rights reserved", "© 2024", "(c) Acme", "Copyright", "Share on Facebook",
          "Leave a Reply", "Be the first to comment", "Image courtesy of Ann Lee", "Photo: AP", "click to tweet",
          "Subscribe", "newsletter", "Home", " | ", " - ", " / ", " > ", "-", "/", "»", "•", "©", "®", "™",
          "user@example.com", "@handle", "a@b", "www.site.org", "https://x.net/a", ".com", "İ", "ı", "ſ", "K",
          "PRİVACY", "Cookıes", "ſhare", "\x00", "\U0001f600", "𝐀", "²", "½", "٣", "é", "É", "ß", "Σ",
          "the", "and", "of", "THE", "Für", "FÜR", "über", "ÜBER", "İn", "IN", "ΣΑ", "σ", "ς", "𐐀", "ǅ", "Ω",
          "ﬁ", "Reply", "Report", "says:", "10:45 am", "5 comments", "Posted by Ann on",
          "word", "Word", "WORD", "_", "1.", "* ", "“", "”", "’", "—", "–", "…", ".", "!", "?", ":", ",",
          # the rules whose literals are short: agency credits, bylines, pagination, feedback, ads
          "(AP Photo/Jane Doe)", "REUTERS/Ann Lee", "/ AFP PHOTO /", " AP", "(Getty)", "By Ann Lee", "by",
          "Posted on", "1 2 3", "Next", "Was this helpful?", "Yes", "No", "Advertisement", "ad", "-A +A",
          "Monthly", "$5,000 raised of $10,000", " / ", "Page 2 of 9",
          " ", "  ", "\t", "a" * 30, "1234", "Mr. Smith said the vote was close.",
          # scripts without spaces (words counted from their characters), and ones with spaces
          "報道によると", "、", "。", "「脱獄」", "したiPhone", "ｱｲｳ", "𠀀𠀁", "图书馆", "한국어 뉴스", "ภาษาไทย"]
_LINE = st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=14).map(lambda xs: "".join(xs).strip())


def _fragments_equal(paragraph: str) -> None:
    assert RULES.strip_fragment(paragraph) == RULES_WHOLE_SUFFIX.strip_fragment(paragraph), paragraph


def _para_rules_equal(form: str) -> None:
    words = word_count(form)
    if words <= RULES.max_words:
        got = [r.id for r in RULES._match(form, words)]
        want = [r.id for r in RULES._match_plain(form, words)]
        assert got == want, form


@settings(max_examples=3000, deadline=None)
@given(_LINE)
def test_rule_prefilter_equals_the_alternation_on_generated_lines(line):
    _para_rules_equal(match_form(line))


def _page_rules_equal(paragraphs: list[str]) -> None:
    """The page-wide prefilter and verdict cache give each paragraph the plain alternation's rules,
    and the suffix prefilter's candidates of each paragraph's tail."""
    forms = [match_form(p) for p in paragraphs]
    words = [word_count(f) for f in forms]
    for fresh in (True, False):  # the verdicts computed, then looked up
        if fresh:
            RULES._verdicts.clear()
        got = [[r.id for r in h] for h in RULES._page_hits(forms, words)]
        want = [[r.id for r in RULES._match_plain(f, w)] if w <= RULES.max_words else []
                for f, w in zip(forms, words, strict=True)]
        assert got == want, paragraphs
    tails = RULES._suffix_candidates(forms)
    if tails is not None:
        assert tails == [RULES._suffix_filter.candidates(f[-RULES._suffix_width:]) for f in forms]
    for pf in (RULES._para_filter, RULES._suffix_filter):
        masks = pf.page_masks(forms)
        if masks is not None:
            assert [sum(int(w) << (64 * k) for k, w in enumerate(row)) for row in masks] == \
                [pf.candidates(f) for f in forms]


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINE, min_size=2, max_size=12))
def test_page_prefilter_equals_the_alternation_line_by_line(paragraphs):
    _page_rules_equal(paragraphs)


def test_page_prefilter_takes_its_fast_path_on_ascii_and_accented_pages():
    for page in (["Share on Facebook", "Leave a Reply", "Mr. Smith said the vote was close."],
                 ["Für über © 2024", "Photo: AP", "Teilen Sie diesen Artikel"]):
        assert RULES._para_filter.page_masks([match_form(p) for p in page]) is not None
        _page_rules_equal(page)
    assert RULES._para_filter.page_masks(["PRİVACY", "Home"]) is None  # İ: one by one


def _starts(mask: int | None) -> str | None:
    return None if mask is None else "".join(chr(b) for b in range(128) if mask >> b & 1)


def test_first_characters_a_whole_match_can_start_with():
    fb = boilerplate.first_bytes
    assert _starts(fb("(?:home|news) page")) == "HNhn"  # ignoring case
    assert _starts(fb("x?y")) == "XYxy"  # an optional part lets the next one start the match
    assert _starts(fb(r"\d+ comments?")) == "0123456789"
    assert _starts(fb("(?=b)b|c")) == "BCbc"  # a look-ahead is transparent
    assert _starts(fb(r"(?<!\S)©")) == ""  # a non-ASCII start only (any non-ASCII byte goes)
    assert _starts(fb("[^a]b")) == "".join(map(chr, range(128)))  # a negated set: any start
    assert _starts(fb(r"[-*•] item")) == "*-"
    assert _starts(fb(r"(\w)\1")) == _starts(fb(r"\w"))
    assert fb("a*") is None and fb("(?:a|)b?") is None  # a match may be empty: any start
    assert set(_starts(fb(r"\s*(?:a|b)"))) == set(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1fabAB")


def test_the_first_characters_never_rule_out_a_match_of_the_packs_examples():
    """Every example and counter-example of every paragraph rule, with its first or second character
    replaced by each printable ASCII character, with one put before either, and in other cases:
    wherever the rule matches, the first- and two-character readings let the form through."""
    tried = 0
    pf = RULES._para_filter
    for i, r in enumerate(RULES._para):
        first = boilerplate.first_bytes(r.pattern)
        for example in (*r.examples, *r.counter_examples):
            f = match_form(example)
            for v in (f, f.upper(), f.lower(), f.swapcase(), *(chr(c) + f[1:] for c in range(32, 127)),
                      *(chr(c) + f for c in range(32, 127)), *(f[:1] + chr(c) + f[2:] for c in range(32, 127)),
                      *(f[:1] + chr(c) + f[1:] for c in range(32, 127))):
                if v and r.regex.fullmatch(v):
                    tried += 1
                    b = ord(v[0].lower()[0])
                    assert first is None or b >= 128 or first >> b & 1, (r.id, v)
                    assert pf.candidates(v) >> i & 1, (r.id, v)  # the first two characters' reading too
    assert tried > 1000


def test_two_character_starts_of_a_pattern():
    sp = boilerplate.start_pairs
    x = boilerplate._NON_ASCII  # any non-ASCII character
    assert sp("(?:home|news) page") == {"ho", "ne", f"h{x}", f"n{x}", f"{x}o", f"{x}e", x + x}
    assert {p for p in sp(r"\d+ comments?") if x not in p} == {f"{d}{e}" for d in "0123456789" for e in "0123456789 "}
    assert {p for p in sp("(?:by|von) (?-i:[A-Z])") if x not in p} == {"by", "vo"}  # lower-cased
    assert {p for p in sp("x?(?=a)ab") if x not in p} == {"xa", "ab"}
    assert sp("x") == frozenset()  # a one-character match: no form of two characters can match
    assert {p for p in sp("a*") if x not in p} == {"aa"}  # the empty and one-character matches aside
    assert sp(r"(\w)\1") is None  # a back reference: any start


def test_whole_paragraph_rules_are_tried_only_where_their_match_can_start():
    pf = RULES._para_filter
    ids = [r.id for r in RULES._para]
    counter = 1 << ids.index("widgets/counter-edge")  # "(12)", "3k views": starts with "(" or a digit
    assert pf.candidates("12 views") & counter and pf.candidates("(12)") & counter
    assert not pf.candidates("Views") & counter
    menu = 1 << ids.index("navigation/menu-run")  # "Home", "News": a start "h" may be, "hx" not
    assert pf.candidates("Home") & menu and pf.first[ord("h")] & menu and not pf.candidates("Hx top") & menu
    assert pf.candidates("Ünïcode start") & counter  # a non-ASCII start is never ruled out
    assert not RULES._suffix_filter.anchored  # a suffix rule's match ends the paragraph, starts anywhere
    # the candidates' tries on real pages: the prefilter's page pass gives the same masks
    masks = pf.page_masks(["12 views", "Views", "(12)"])
    assert [bool(sum(int(w) << (64 * k) for k, w in enumerate(row)) & counter) for row in masks] == [True, False, True]


_CREDITS = ["Photo: AP", "(Photo: Reuters/Ann Lee)", "Image courtesy of Ann Lee", "Click to tweet", "click to tweet",
            "Photograph by J. Doe", "Getty Images", "the harbour authority approved a plan on Monday. ", "word " * 30]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_ATOMS + _CREDITS), min_size=1, max_size=20).map(lambda xs: "".join(xs).strip()))
def test_suffix_prefilter_on_the_tail_equals_the_whole_paragraph(paragraph):
    """A suffix rule's match ends where the paragraph ends, so its literal is in the last characters."""
    assert RULES._suffix_width is not None and RULES._suffix_width < 200
    _fragments_equal(paragraph)


def test_suffix_rule_examples_stripped_alike():
    stripped = 0
    for r in RULES._suffix:
        for e in (*r.examples, *r.counter_examples):
            _fragments_equal(e)
            stripped += RULES.strip_fragment(e) is not None
    assert stripped >= 4


def test_rule_prefilter_on_every_example_and_counter_example():
    n = 0
    for r in RULES.rules:
        for e in (*r.examples, *r.counter_examples):
            _para_rules_equal(match_form(e))
            n += 1
    assert n > 300


def test_required_literals_are_in_every_example_a_rule_matches():
    """Each rule's literals are necessary: every example it matches (whole, or as a prefix or suffix) holds one."""
    checked = 0
    for r in RULES.rules:
        lits = required_literals(r.pattern)
        if lits is None:
            continue
        for e in r.examples:
            form = match_form(e)
            if r.regex.search(form):
                assert any(s in form.lower() for s in lits), (r.id, e, sorted(lits))
                checked += 1
    assert checked > 200
    # and the extraction reads patterns as expected
    assert required_literals(r"(?:all rights reserved|tous droits)") == {"all rights reserved", "tous droits"}
    assert required_literals(r"foo(?:bar)?") == {"foo"}
    assert required_literals(r"(?:x|\d+)") is None
    assert required_literals(r"(?:abc)*") is None
    # short literals count too: a weak filter still keeps most paragraphs from a slow pattern
    assert required_literals(r".{0,50}?(?:\(ap\)|/ ?afp)") == {"(ap)", "afp"}
    assert required_literals(r"(?:by|von) \w+") == {"by", "von"}


def test_ascii_case_twins_are_the_only_non_ascii_letters_matching_ascii_ignoring_case():
    rx = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    twins = {chr(c) for c in range(0x80, 0x110000) if rx.fullmatch(chr(c))}
    assert len(twins) == 4
    assert content._ASCII_CASE_TWINS is boilerplate._ASCII_CASE_TWINS  # one definition
    pattern = boilerplate._ASCII_CASE_TWINS
    assert all(pattern.fullmatch(c) for c in twins)
    assert not pattern.search("".join(c for c in map(chr, range(0x80, 0x3000)) if c not in twins))


def test_content_literals_are_what_the_patterns_need():
    assert set(required_literals(content._COPYRIGHT.pattern)) <= set(content._COPYRIGHT_LITERALS)
    for example in ("mail me at a@b.de", "see http://x", "www.x.y", "@handle", "x.org", "site.net"):
        assert content._LINKISH.search(example)
        assert any(f in example.lower() for f in content._LINKISH_LITERALS)


def test_content_pattern_parts_find_what_the_whole_patterns_find():
    # On a lower-cased line the case-sensitive parts match where the whole pattern matches the line
    # itself, and a part that matches has one of its literals there. (Whole pages: the page tests.)
    examples = ("mail me at A@B.de", "SEE HTTP://X", "Www.X.y", "@Handle", "X.ORG", "Site.Net", "a@b", "a@b.c",
                "x @y", "x@ y.z", "© 2024", "(C) Acme", "COPYRIGHT", "All Rights Reserved", "all rights", "com",
                ".community", "no link here", "a.b@c.d.e", "@", "x\n@y", "")
    for whole, parts in ((content._COPYRIGHT, content._COPYRIGHT_PARTS), (content._LINKISH, content._LINKISH_PARTS)):
        for example in examples:
            low = example.lower()
            found = [part.search(low) is not None for _, part in parts]
            assert any(found) == (whole.search(example) is not None), example
            assert all(any(f in low for f in literals) for (literals, _), hit in zip(parts, found, strict=True)
                       if hit), example


def _features_equal(lines: list[str | None], blocks: list[int] | None = None) -> None:
    i1, l1, x1 = content._featurize(lines, blocks)
    i2, l2, x2 = content._featurize(lines, blocks, reference=True)
    assert i1 == i2 and (l1 if isinstance(l1, list) else l1.rows()) == l2
    assert np.array_equal(x1, x2), np.argwhere(x1 != x2)[:5]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(_LINE, st.none(), st.text(min_size=1, max_size=30).map(str.strip)), min_size=1,
                max_size=25))
def test_page_features_equal_the_line_by_line_reference(lines):
    lines = [None if x is None or not x or "\n" in x else x for x in lines]
    blocks = [k // 3 for k in range(len(lines))]
    _features_equal(lines, blocks)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.lists(st.floats(-5, 50, width=32), min_size=WIDTH * n,
                                                    max_size=WIDTH * n)))
def test_compiled_tree_walk_equals_numpy(values):
    """One or two rows take the walk with a branch per node, more the level-by-level walk: both
    equal the numpy reference."""
    x = np.array(values, dtype=np.float32).reshape(-1, WIDTH)
    for model in STAGES:
        assert np.array_equal(model.margin(x), model.margin_reference(x))
        assert np.array_equal(model.margin(x.astype(np.float64)), model.margin_reference(x))  # unpacked walk


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-5, 50, width=32), min_size=WIDTH, max_size=WIDTH * 4)
       .map(lambda v: v[:len(v) - len(v) % WIDTH]))
def test_explanations_equal_one_row_at_a_time(values):
    x = np.array(values, dtype=np.float32).reshape(-1, WIDTH)
    for model in (MODEL, MODEL.first):  # two stages, and a one-stage model (the first stage alone)
        assert content.explanations(x, model) == [content.explain(row, model) for row in x]
        assert content.explanations(x[:0], model) == []


@pytest.mark.slow
@pytest.mark.parametrize("path,every,first,least", [
    ("scrapinghub-aeb/dump.jsonl.gz", 1, 0, 10_000),
    # every third page of wcxb (the reference takes 2 minutes on all of it), in two halves that
    # parallel test workers can take at once
    ("wcxb-dev/dump.jsonl.gz", 6, 0, 5_000), ("wcxb-dev/dump.jsonl.gz", 6, 3, 5_000),
])
def test_fast_paths_equal_their_references_on_the_dev_sets(path, every, first, least):
    """Every page of aeb and every third of wcxb."""
    cfg = Config()
    n_lines = 0
    with gzip.open(need_shared(EVALDATA / path), "rt", encoding="utf-8") as fh:
        for k, line in enumerate(fh):
            if k % every != first:
                continue
            text = encoding.repair(json.loads(line)["text"], cfg.encoding)[0]
            assert np.array_equal(minhash.text_token_hashes(text), minhash.token_hashes(minhash.tokens(text)))
            paras, blocks = encoding.split_blocks(text)
            if len(paras) > 1:
                _page_rules_equal(paras)
            for p in paras:
                form = match_form(p)
                _para_rules_equal(form)
                _fragments_equal(p)
                assert repeats.paragraph_key(p) == repeats.paragraph_key_reference(p)
            assert templates.template_forms(paras) == [templates.template_form(p) for p in paras]
            made = forms.keys_and_forms(paras)
            if made is not None:
                keys, utf8, elsewhere = made
                for i, p in enumerate(paras):
                    if i not in elsewhere:
                        assert (keys[i].decode() or p.strip()) == repeats.paragraph_key_reference(p)
                        assert utf8[i].decode() == templates.template_form(p)
            assert templates.template_keys(paras) == templates.template_keys_reference(paras)
            th, offsets = minhash.texts_token_hashes(paras)
            assert np.array_equal(th, np.concatenate([minhash.text_token_hashes(p) for p in paras] or [th]))
            current, _ = RULES.apply("d", paras)
            _features_equal(current, blocks)
            _, _, x = content._featurize(current, blocks)
            if len(x):
                rows = MODEL.page_rows(x)
                for model in STAGES:
                    assert np.array_equal(model.margin(rows), model.margin_reference(rows))
            n_lines += len(paras)
    assert n_lines > least


@settings(max_examples=800, deadline=None)
@given(st.lists(st.one_of(_LINE, st.text(alphabet="ab \n\u2014\u201c\u2026\u00e9", max_size=12)), max_size=8))
def test_page_forms_equal_each_paragraphs_form(paragraphs):
    """The page folded in one pass gives each paragraph's own form, also for paragraphs that hold a
    line break themselves (split_blocks' paragraphs do not)."""
    assert boilerplate.page_forms(paragraphs) == [match_form(p) for p in paragraphs]


def test_match_form_keeps_the_word_count():
    """Rules read a paragraph's word count off its match form: folding never adds or removes a space."""
    for k, v in boilerplate._FOLD.items():
        assert not chr(k).isspace() and not any(c.isspace() for c in v)
    for p in ("a\u2014b \u201cquoted\u201d \u2026 end", "x \u2013 y"):
        assert word_count(match_form(p)) == word_count(p)


def test_float32_thresholds_decide_as_the_float64_ones():
    """The compiled walk compares float32 rows with thresholds rounded down to float32: for every
    threshold of the model and the float32 values around it, the same side of the split."""
    for model in STAGES:
        _, feature, t32, left, right = model.walk
        internal = model.left != np.arange(len(model.left))
        t64 = model.threshold[internal]
        near = t64.astype(np.float32)
        for x in (near, np.nextafter(near, np.float32(np.inf)), np.nextafter(near, np.float32(-np.inf))):
            assert np.array_equal(x <= t32[internal], x.astype(np.float64) <= t64)
        assert (t32[internal].astype(np.float64) != t64).any(), "some thresholds are not float32 values"
        # the packed nodes the float32 walk reads hold the same features, thresholds and children
        assert np.array_equal(model.packed_thresholds[:, 1], t32)
        assert np.array_equal(model.packed[:, [0, 2, 3]], np.column_stack([feature, left, right]))
