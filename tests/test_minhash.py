"""MinHash signatures: bit-identical to datasketch's affine32 scheme, usable with its LSH."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapewash.tasks import minhash


def _datasketch(toks, n, num_perm=128, seed=1):
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=minhash.shingle_hash32)
    for s in minhash.shingles(toks, n):
        m.update(s)
    return m


def _ours(toks, n, num_perm=128, seed=1):
    return minhash.signature(minhash.shingle_hashes(minhash.token_hashes(toks), n),
                             minhash.permutations(num_perm, seed))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="abcdeé漢", min_size=1, max_size=6), max_size=60),
       st.integers(1, 5), st.sampled_from([16, 64, 128]), st.integers(0, 3))
def test_bit_identical_to_datasketch(toks, n, num_perm, seed):
    ours = _ours(toks, n, num_perm, seed)
    assert ours.dtype == np.uint32
    assert np.array_equal(ours, _datasketch(toks, n, num_perm, seed).hashvalues)


def test_batch_signatures_equal_single():
    perms = minhash.permutations(64, 1)
    texts = ["the cat sat on the mat", "", "one", "a b c d e f g h i j k " * 30]
    sets = [minhash.shingle_hashes(minhash.token_hashes(minhash.tokens(t)), 3) for t in texts]
    batch = minhash.signatures(sets, perms)
    for row, s in zip(batch, sets, strict=True):
        assert np.array_equal(row, minhash.signature(s, perms))


def test_rows_work_with_datasketch_lsh():
    base = minhash.tokens("the council approved the budget for the new library after a long debate " * 3)
    near = base[:-1] + ["tonight"]
    far = minhash.tokens("a completely different story about football and the weather this weekend")
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for key, toks in (("base", base), ("far", far)):
        lsh.insert(key, LeanMinHash(seed=1, hashvalues=_ours(toks, 3), scheme="affine32"))
    q = LeanMinHash(seed=1, hashvalues=_ours(near, 3), scheme="affine32")
    assert lsh.query(q) == ["base"]


def test_candidate_pairs_from_bands():
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(6, 32), dtype=np.uint64).astype(np.uint32)
    sigs[3] = sigs[0]
    sigs[5, :8] = sigs[0, :8]  # shares the first band of 8 rows only
    pairs = minhash.candidate_pairs(minhash.band_keys(sigs, 4, 8)).tolist()
    assert pairs == [[0, 3], [0, 5], [3, 5]]
    assert minhash.estimate_jaccard(sigs[0], sigs[3]) == 1.0
    assert minhash.exact_jaccard(np.array([1, 2, 3], np.uint32), np.array([2, 3, 4], np.uint32)) == 0.5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abé漢\x00\ud800", min_size=1, max_size=4), max_size=12), max_size=8),
       st.integers(1, 4))
def test_shingle_sets_in_one_pass_equal_one_by_one(token_lists, n):
    got = minhash.shingle_sets(token_lists, n)
    assert len(got) == len(token_lists)
    for g, toks in zip(got, token_lists, strict=True):
        assert np.array_equal(g, minhash.shingle_set(toks, n))
        assert np.array_equal(minhash.token_hashes(toks),
                              np.array([zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in toks], dtype=np.uint32))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=300), max_size=6), st.sampled_from([16, 64, 128]),
       st.integers(0, 5))
def test_compiled_signatures_equal_numpy(sets, num_perm, seed):
    arrays = [np.array(s, dtype=np.uint32) for s in sets]
    perms = minhash.permutations(num_perm, seed)
    assert np.array_equal(minhash.signatures(arrays, perms), minhash.signatures_reference(arrays, perms))
    for a in arrays:
        assert np.array_equal(minhash.signature(a, perms), minhash.signatures_reference([np.unique(a)], perms)[0])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(["word", "Word", "WORD", "_", "a_b", "12", "é", "İ", "K", "ß", "’", "“", "”", "—", "–",
                                 "…", "\u00a0", "•", "©", "®", " ", "\n", "\t", ".", ",", "'", "-", "\x00", "ǅ",
                                 "\u2028", "漢", "x" * 20]), max_size=40).map("".join))
def test_text_token_hashes_equal_the_token_path(text):
    assert np.array_equal(minhash.text_token_hashes(text), minhash.token_hashes(minhash.tokens(text)))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 60), st.sampled_from([1, 4, 16]), st.integers(1, 40), st.integers(0, 2**16))
def test_candidate_pairs_band_by_band_equal_one_sort(n, bands, distinct, seed):
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, distinct, size=(n, bands * 2), dtype=np.uint64).astype(np.uint32)
    keys = minhash.band_keys(sigs, bands, 2)
    assert np.array_equal(minhash.candidate_pairs(keys), minhash.candidate_pairs_reference(keys))


@pytest.mark.parametrize(("n", "distinct"), [(2, 1), (3000, 3), (20_000, 400), (20_000, 10**9)])
def test_candidate_pairs_equal_one_sort_on_big_buckets_and_none(n, distinct):
    # big buckets make the compiled pass grow its output many times; all-distinct keys give no pair
    rng = np.random.default_rng(n + distinct)
    sigs = rng.integers(0, distinct, size=(n, 16), dtype=np.uint64).astype(np.uint32)
    keys = minhash.band_keys(sigs, 8, 2)
    got = minhash.candidate_pairs(keys)
    assert np.array_equal(got, minhash.candidate_pairs_reference(keys))
    assert got.dtype == np.int64 and (len(got) > 0) == (distinct < n)


_TEXT_ATOMS = ["word", "Word", "WORD", "_", "a_b", "12", "é", "İ", "K", "ß", "’", "“", "”", "—", "–", "…", "\u00a0",
               "•", "©", "®", " ", "\n", "\t", ".", ",", "'", "-", "\x00", "ǅ", "\u2028", "漢", "x" * 20, "😀", "\udc80",
               "٣", "Ａ", "\u00b7", "\u2019s", "ü", "\u0130x"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TEXT_ATOMS), max_size=30).map("".join), max_size=8))
def test_texts_token_hashes_equal_one_text_at_a_time(texts):
    th, offsets = minhash.texts_token_hashes(texts)
    assert len(offsets) == len(texts) + 1 and offsets[0] == 0 and offsets[-1] == len(th)
    for i, t in enumerate(texts):
        assert np.array_equal(th[offsets[i]:offsets[i + 1]], minhash.text_token_hashes(t))
    ref_th, ref_offsets = minhash.texts_token_hashes_reference(texts)
    assert np.array_equal(th, ref_th) and np.array_equal(offsets, ref_offsets)
    assert th.dtype == np.uint32 and offsets.dtype == np.int64


def test_texts_token_hashes_on_typical_pages():
    """Pages in several scripts in one batch: the compiled pass reads all but those with İ or Σ or a
    character beyond Unicode's first four planes, which go one by one."""
    plain = "The mayor’s plan — approved “in full” on Monday… costs $3.5m • Photo © AP\u00a0News"
    texts = [plain, "Café Zürich reopens: Ärzte für Älteste", plain.upper(), "", "北京报道：新政策 ２０２４年",
             "Москва, 5 ДЕКАБРЯ — «Новости»", "Fans 😀 cheered", "İstanbul'da", "ΟΔΥΣΣΕΑΣ ΚΑΙ ΣΟΦΙΑ",
             "ภาษาไทย ทดสอบ", "e\u0301te\u0301 naïve ﬁnance", "𠀋𠀌 𝐀𝐁 𐐀𐐁x \U000e0041", plain + " " + plain, "x"]
    th, offsets = minhash.texts_token_hashes(texts)
    for i, t in enumerate(texts):
        assert np.array_equal(th[offsets[i]:offsets[i + 1]], minhash.token_hashes(minhash.tokens(t)))
    assert offsets[3] == offsets[4]  # the empty page has no token
    data = np.frombuffer("\x00".join(texts).encode("utf-8"), dtype=np.uint8)
    _, _, other = minhash._utf8_token_hashes(data, len(texts), minhash._ASCII_TOKEN_BYTES,
                                             minhash._token_table(), minhash._CRC_TABLE)
    assert [i for i in range(len(texts)) if other[i]] == [7, 8, 11]


def test_the_token_table_reads_as_the_pattern():
    """Every character of Unicode's first four planes, on its own and between two letters, gives
    the tokens :func:`minhash.tokens` gives, or is left to it."""
    table = minhash._token_table()
    chars = [chr(c) for c in range(1, 0x40000) if not 0xD800 <= c <= 0xDFFF]  # NUL: the texts' joint
    texts = [ch for ch in chars] + ["a" + ch + "b" for ch in chars]
    assert "\x00" not in "".join(texts)  # one batch, read by the compiled pass
    th, offsets = minhash.texts_token_hashes(texts)
    for i, t in enumerate(texts):
        assert np.array_equal(th[offsets[i]:offsets[i + 1]], minhash.token_hashes(minhash.tokens(t))), repr(t)
    elsewhere = [c for c in range(len(table)) if table[c] >> minhash._KIND_SHIFT == minhash._KIND_ELSEWHERE]
    assert elsewhere == [0x0130, 0x03A3]


def _near_pairs_reference(th, offsets, n, perms, bands, rows):
    sets = minhash.hash_shingle_sets([th[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)], n)
    pairs = minhash.candidate_pairs(minhash.band_keys(minhash.signatures(sets, perms), bands, rows))
    return pairs, [minhash.exact_jaccard(sets[a], sets[b]) for a, b in pairs.tolist()], sets


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=30), max_size=12), st.sampled_from([1, 2, 3]),
       st.sampled_from([(16, 2), (8, 4), (32, 1)]), st.integers(0, 3))
def test_near_pairs_in_one_call_equal_the_stages(token_lists, n, layout, seed):
    """Small vocabularies, so that pages repeat shingles, share bands and collide in buckets."""
    bands, rows = layout
    perms = minhash.permutations(bands * rows, seed + 1)
    th = np.array([t * 2654435761 % 2**32 for toks in token_lists for t in toks], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(t) for t in token_lists]))).astype(np.int64)
    pairs, sims, values, set_offsets = minhash.near_pairs(th, offsets, n, perms, bands, rows)
    want_pairs, want_sims, want_sets = _near_pairs_reference(th, offsets, n, perms, bands, rows)
    assert np.array_equal(pairs.reshape(-1, 2), want_pairs.reshape(-1, 2))
    assert sims.tolist() == want_sims
    for k, s in enumerate(want_sets):
        assert np.array_equal(values[set_offsets[k]:set_offsets[k + 1]], s)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=40), max_size=10), st.sampled_from([1, 2, 5]),
       st.sampled_from([(16, 4), (8, 2)]), st.integers(0, 3))
def test_set_band_keys_in_one_call_equal_the_stages(token_lists, n, layout, seed):
    bands, rows = layout
    perms = minhash.permutations(bands * rows, seed + 1)
    th = np.array([t for toks in token_lists for t in toks], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(t) for t in token_lists]))).astype(np.int64)
    want = minhash.band_keys(minhash.signatures(minhash.hash_shingle_sets(
        [np.array(t, dtype=np.uint32) for t in token_lists], n), perms), bands, rows)
    assert np.array_equal(minhash.set_band_keys(th, offsets, n, perms, bands, rows).reshape(want.shape), want)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TEXT_ATOMS), max_size=30).map("".join), max_size=8))
def test_a_texts_tokens_are_its_paragraphs_tokens(paragraphs):
    """What signing relies on: the tokens of paragraphs joined by a blank line are theirs, in order."""
    th, _ = minhash.texts_token_hashes(paragraphs)
    assert np.array_equal(th, minhash.text_token_hashes("\n\n".join(paragraphs)))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TEXT_ATOMS[:12] + ["a b", "b a", "c"]), max_size=20).map(" ".join),
                min_size=1, max_size=8), st.sampled_from([1, 3, 5]))
def test_text_shingle_sets_and_pair_jaccard_equal_the_plain_functions(texts, n):
    values, offsets = minhash.text_shingle_sets(texts, n)
    small_v, small_o = minhash.text_shingle_sets(texts, n, batch=3)  # in batches: the same
    assert np.array_equal(values, small_v) and np.array_equal(offsets, small_o)
    sets = [minhash.shingle_set(minhash.tokens(t), n) for t in texts]
    for k, s in enumerate(sets):
        assert np.array_equal(values[offsets[k]:offsets[k + 1]], s)
    a, b = np.triu_indices(len(texts))
    assert minhash.jaccard_pairs(values, offsets, a, b).tolist() == [
        minhash.exact_jaccard(sets[x], sets[y]) for x, y in zip(a.tolist(), b.tolist(), strict=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 50), max_size=30), max_size=10), st.sampled_from([1, 3, 5]),
       st.lists(st.integers(0, 9), max_size=8))
def test_set_signatures_and_selected_lists_equal_text_by_text(token_lists, n, pick):
    """The signatures of many token-hash lists in one call are each list's own signature; a
    selection of lists is those lists, in the order asked."""
    perms = minhash.permutations(32, 3)
    th = np.array([t * 2654435761 % 2**32 for toks in token_lists for t in toks], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(t) for t in token_lists]))).astype(np.int64)
    sigs = minhash.set_signatures(th, offsets, n, perms)
    for i in range(len(token_lists)):
        own = th[offsets[i]:offsets[i + 1]]
        assert np.array_equal(sigs[i], minhash.signature(minhash.shingle_hashes(own, n), perms))
    which = [k for k in pick if k < len(token_lists)]
    sel, sel_off = minhash.select_lists(th, offsets, np.array(which, dtype=np.int64))
    assert len(sel_off) == len(which) + 1
    for j, k in enumerate(which):
        assert np.array_equal(sel[sel_off[j]:sel_off[j + 1]], th[offsets[k]:offsets[k + 1]])
