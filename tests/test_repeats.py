"""Repeated paragraphs inside a document: exact and near-exact, first copy kept."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapewash.tasks import minhash
from scrapewash.tasks.repeats import (
    _near_repeats,
    paragraph_hash,
    paragraph_hashes,
    paragraph_key,
    paragraph_key_reference,
    paragraph_keys,
    remove_repeats,
)

LONG = ("The regional water board said on Tuesday that reservoir levels had fallen to their lowest "
        "point in a decade and that hosepipe restrictions would remain in force until autumn.")


def test_exact_repeats_keep_first():
    paras = ["Headline", "Body one is here.", "HEADLINE", "Body one is here!", None, "Other"]
    out, rem = remove_repeats("d", paras)
    assert out == ["Headline", "Body one is here.", None, None, None, "Other"]
    assert [(r.paragraph_index, r.duplicate_of_paragraph, r.reason) for r in rem] == [
        (2, 0, "repeated_paragraph"), (3, 1, "repeated_paragraph")]
    assert paragraph_key("Read more:") == paragraph_key("READ  MORE")


def test_near_repeat_removed_with_similarity():
    near = LONG.replace("Tuesday", "Wednesday")
    out, rem = remove_repeats("d", [LONG, "Something else entirely, a short line.", near])
    assert out[2] is None
    assert rem[0].duplicate_of_paragraph == 0 and 0.8 <= rem[0].similarity < 1.0


def test_different_paragraphs_and_short_lines_kept():
    other = ("The board also announced a consultation on new charges for commercial users, "
             "which will open next month and run for twelve weeks.")
    out, rem = remove_repeats("d", [LONG, other, "Yes.", "No."])
    assert rem == [] and out == [LONG, other, "Yes.", "No."]
    out, rem = remove_repeats("d", [LONG, LONG.replace("Tuesday", "Monday")], near=False)
    assert rem == []


def test_copies_scope_keeps_a_question_asked_of_everyone():
    q = "What is the one dish you would cook for friends on a cold winter evening at home?"
    a1 = "A slow-cooked bean stew with smoked paprika, because it feeds everyone and waits for late guests."
    a2 = "Fish soup from my grandmother's recipe, with saffron, fennel and plenty of crusty bread."
    block = [LONG, "A second paragraph of the story, long enough to count as a real paragraph here."]
    intro = [f"Introduction paragraph {w} of the feature, which presents the cooks one by one." for w in "abc"]
    paras = ["Headline", "Headline"] + intro + [q, a1, q, a2] + block + block
    out, rem = remove_repeats("d", list(paras), scope="copies")
    assert [(r.paragraph_index, r.duplicate_of_paragraph) for r in rem] == [(1, 0), (11, 9), (12, 10)]
    assert out[7] == q
    out, rem = remove_repeats("d", list(paras), scope="any")
    assert [r.paragraph_index for r in rem] == [1, 7, 11, 12]


def test_copies_scope_keeps_labels_that_return_in_every_section():
    """A meal plan prints the same run of labels for every day: structure, not a scraper's copy."""
    intro = [f"Introduction paragraph {w} of the plan, which explains how the days are built." for w in "abcdef"]
    days = []
    for d in range(4):
        days += [f"Day {d + 1}", "Pre-Workout Meal", "Eat 60-90 minutes before your workout",
                 f"Dish number {d} with eggs, asparagus and sweet potato", "Portion Fix Containers: 1 Green, 1 Red",
                 "Post-Workout Meal", "Eat 1-2 hours after your workout"]
    out, rem = remove_repeats("d", intro + days, scope="copies")
    assert rem == [] and out == intro + days
    # the same block printed twice is still a copy
    block = days[:7]
    out, rem = remove_repeats("d", intro + block + block, scope="copies")
    assert [r.paragraph_index for r in rem] == list(range(13, 20))


def test_copies_scope_min_block_sets_how_long_a_copied_block_is():
    intro = [f"Introduction paragraph {w} of the plan, which explains how the days are built." for w in "abcdef"]
    pair = ["Asparagus and eggs with sweet potato and a slice of whole-grain toast",
            "Portion Fix Containers: 1 Green, 1 Purple, 1 Red, 1 tsp."]
    triple = ["Chicken zoodles with edamame", "Portion Fix Containers: 1 Green, 2 Red, 1 Yellow",
              "Beachbody Performance Recharge, 1 tsp. nut butter"]
    x, y, z = (f"Day {d} brings its own advice on sleep, water and rest, in a paragraph of its own." for d in "xyz")
    paras = intro + pair + [x] + pair + [y] + triple + [z] + triple
    assert len(paras) == 19
    out, rem = remove_repeats("d", list(paras), scope="copies")
    assert [(r.paragraph_index, r.duplicate_of_paragraph) for r in rem] == [
        (9, 6), (10, 7), (16, 12), (17, 13), (18, 14)]
    # from three: the pair served again stays, the block of three printed again goes
    out, rem = remove_repeats("d", list(paras), scope="copies", min_block=3)
    assert [r.paragraph_index for r in rem] == [16, 17, 18]
    assert out[9:11] == pair and out[16:] == [None] * 3


def test_min_block_setting_reaches_the_cleaning_stage():
    """``[repeats] min_block`` from the configuration is what the cleaner (the prepare task's
    function) applies; a block shorter than 2 is refused when the configuration is read."""
    import pydantic

    from scrapewash.config import Config
    from scrapewash.records import RawDocument
    from scrapewash.tasks.clean import Cleaner

    intro = [f"Introduction paragraph {w} of the plan, which explains how the days are built." for w in "abcdef"]
    pair = ["Asparagus and eggs with sweet potato and a slice of whole-grain toast",
            "Portion Fix Containers: 1 Green, 1 Purple, 1 Red, 1 tsp."]
    x = "Day two brings its own advice on sleep, water and rest, in a paragraph of its own."
    text = "\n\n".join(intro + pair + [x] + pair)
    raw = RawDocument("p", text, "plan.txt", "plan.txt", 0)

    def repeated(cfg: dict) -> list[int]:
        doc = Cleaner(Config.model_validate({"content": {"enabled": False}, **cfg})).clean(raw)
        return [r.paragraph_index for r in doc.removals if r.reason == "repeated_paragraph"]

    assert repeated({}) == [9, 10]
    assert repeated({"repeats": {"min_block": 3}}) == []
    with pytest.raises(pydantic.ValidationError, match="min_block"):
        Config.model_validate({"repeats": {"min_block": 1}})


_ATOMS = ["word", "Word", "WORD", "_", "a_b", "12", "é", "İ", "K", "ß", "ſ", "’", "“", "”", "—", "–", "…", "\u00a0",
          "•", "·", "©", "®", " ", "  ", "\t", ".", ",", "'", "-", "\x00", "\x1c", "ǅ", "\u2028", "漢", "Σ"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_ATOMS), max_size=30).map("".join))
def test_paragraph_key_equals_its_definition(text):
    assert paragraph_key(text) == paragraph_key_reference(text)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_ATOMS + ["\n", "Read more", "Jan 3"]), max_size=12).map("".join), max_size=8))
def test_paragraph_keys_of_a_page_equal_one_by_one(paragraphs):
    assert paragraph_keys(paragraphs) == [paragraph_key(p) for p in paragraphs]
    assert paragraph_hashes(paragraphs) == [int.from_bytes(paragraph_hash(p), "little") for p in paragraphs]


def _near_repeats_reference(doc_id, out, threshold, min_words):
    """The near pass stage by stage (token hashes, shingle sets, signatures, bands, exact Jaccard)."""
    idx, hash_lists = [], []
    for i, p in enumerate(out):
        if p is None:
            continue
        th = minhash.text_token_hashes(p)
        if len(th) >= min_words:
            idx.append(i)
            hash_lists.append(th)
    if len(idx) < 2:
        return []
    sets = minhash.hash_shingle_sets(hash_lists, 2)
    pairs = minhash.candidate_pairs(minhash.band_keys(minhash.signatures(sets, minhash.permutations(32, 1)), 16, 2))
    best = {}
    for a, b in pairs.tolist():
        sim = minhash.exact_jaccard(sets[a], sets[b])
        if sim >= threshold and (b not in best or a < best[b][0]):
            best[b] = (a, sim)
    found = []
    removed = set()
    for b in sorted(best):
        a, sim = best[b]
        if a in removed:
            while a in removed:
                a = best[a][0]
            sim = minhash.exact_jaccard(sets[a], sets[b])
        removed.add(b)
        out[idx[b]] = None
        found.append((idx[b], idx[a], round(sim, 4)))
    return found


_SENTENCES = ["The council met on Tuesday to discuss the harbour budget for next year.",
              "The council met on Tuesday to discuss the harbour budget for the next year.",
              "Fishing crews said the silt had made the entrance dangerous at low tide.",
              "Fishing crews said that silt had made the entrance dangerous at low tide!",
              "Share this article", None, "“Quoted” — the mayor’s words… as printed\u00a0twice in the page today.",
              "“Quoted” — the mayor’s words… as printed\u00a0twice in the page today!", "Straße über Öl für alle Bürger heute."]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_SENTENCES), max_size=14), st.sampled_from([0.5, 0.8]), st.sampled_from([1, 8]))
def test_near_repeats_equal_the_stage_by_stage_reference(paragraphs, threshold, min_words):
    got_out = list(paragraphs)
    got = [(r.paragraph_index, r.duplicate_of_paragraph, r.similarity)
           for r in _near_repeats("d", got_out, threshold, min_words)]
    want_out = list(paragraphs)
    assert got == _near_repeats_reference("d", want_out, threshold, min_words)
    assert got_out == want_out


_PAGE_LINES = ["Read more", "READ MORE:", "Share on Facebook", "© 2024 Acme", "The council met on Monday.",
               "İstanbul’da bir gün", "图书馆的新书", "a\x00b", "word " * 12, "Leave a Reply", "“Quoted” — said",
               "Σίσυφος", "ǅungla", "\u00a0Home\u00a0", "Privacy Policy | Terms", "1 2 3 Next"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PAGE_LINES + _ATOMS), min_size=1, max_size=20))
def test_the_key_hashes_the_cleaning_hands_on_equal_paragraph_hashes(lines):
    """The prepare stage stores each kept paragraph's exact-key hash from the keys the in-page
    repeats already made; the sign stage takes them as :func:`paragraph_hashes` of the text."""
    from scrapewash.records import RawDocument
    from scrapewash.tasks import repeats

    doc = _cleaner().clean(RawDocument("d", "\n\n".join(lines), "s", "s:1", 0))
    assert repeats.kept_hashes(doc.paragraphs, doc.kept_indexes, doc.keys) == paragraph_hashes(doc.paragraphs)
    # the handed-on keys are what is compared, except on a page holding NUL (keyed paragraph by paragraph)
    if doc.keys is None:
        assert any("\x00" in line for line in lines)
    else:
        assert all(i in doc.keys for i in doc.kept_indexes)


@functools.cache
def _cleaner():
    from scrapewash.config import Config
    from scrapewash.tasks.clean import Cleaner

    return Cleaner(Config())
