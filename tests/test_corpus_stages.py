"""Corpus-wide stages: site templates and duplicate paragraphs across documents."""

from __future__ import annotations

import json
from datetime import UTC

import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_reconciles, read_dataset, run_flow
from scrapewash import schemas
from scrapewash.tasks.templates import find_templates, site_of, template_form, template_keys

BODY = [
    "The harbour authority approved a plan on Monday to dredge the northern channel before the autumn storms, "
    "a project expected to take eleven weeks and cost about four million euros.",
    "Fishing crews said the silt had made the entrance dangerous at low tide for most of the summer season.",
    "Work will start once the environmental permit arrives, which officials expect within a fortnight.",
    "Local ferry operators welcomed the decision but asked for night work to limit disruption to sailings.",
]


TOPICS = ["ferry timetable", "winter storm", "fish market", "council vote"]
PLACES = ["the old pier", "the lighthouse road", "the cannery", "the town hall"]


def _page(i: int, extra: str) -> str:
    return "\n".join([
        "The Harbour Post",
        f"Readers ask about the {TOPICS[i]} as {extra} news spreads",
        f"People gathered near {PLACES[i]} to talk about the {TOPICS[i]}, which has dominated local talk.",
        f"Officials at {PLACES[i]} promised a statement on the {TOPICS[i]} before the weekend is out.",
        f"Updated {i + 1} March 2026 - 1{i}:00",
        "The Harbour Post, 12 Quay Street, Portlow",
    ])


def test_template_form_folds_case_digits_dates_punctuation():
    assert template_form("Updated 3 March 2026 — 10:45!") == template_form("updated 14 April 2025 - 09:15")
    assert template_form("Tuesday, 12 May") == template_form("friday 1 june")
    assert template_keys(["A b", "a, B!"])[0] == template_keys(["A b", "a, B!"])[1]
    assert site_of("https://www.example.com/a/b", "x.jsonl") == "example.com"
    assert site_of(None, "/data/site-a/page.txt") == "dir:/data/site-a"


def test_find_templates_counts_distinct_pages(tmp_path):
    import pyarrow as pa

    from scrapewash import schemas

    rows = []
    for order, site, paras in [(1, "a", ["x", "y"]), (2, "a", ["x", "x", "z"]), (3, "a", ["x"]), (4, "b", ["x"])]:
        rows.append({"order": order, "doc_id": str(order), "url": None, "source": "s", "input_position": "s",
                     "site": site, "paragraphs": paras, "pindex": list(range(len(paras))),
                     "tkeys": template_keys(paras), "twords": [len(x.split()) for x in paras],
                     "n_removed_paragraphs": 0, "encoding_fixes": [],
                     "metadata": None})
    f = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schemas.staged_schema()), f)
    stats = find_templates([f], 3, tmp_path / "t.parquet")
    t = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert [(r["site"], r["n_docs"]) for r in t] == [("a", 3)]
    assert stats["template_keys"] == 1
    find_templates([f], 2, tmp_path / "t2.parquet")
    assert pq.read_table(tmp_path / "t2.parquet").num_rows == 1  # "y" and "z" are on one page each


def test_short_lines_are_template_on_fewer_pages(tmp_path):
    import pyarrow as pa

    from scrapewash import schemas

    long = "a long shared paragraph of more than ten words that two versions of one story share"
    rows = []
    for order in (1, 2):
        paras = ["Site Name", long, ["own text alpha", "own text beta"][order - 1]]
        rows.append({"order": order, "doc_id": str(order), "url": None, "source": "s", "input_position": "s",
                     "site": "a", "paragraphs": paras, "pindex": [0, 1, 2], "tkeys": template_keys(paras),
                     "twords": [len(x.split()) for x in paras], "n_removed_paragraphs": 0,
                     "encoding_fixes": [], "metadata": None})
    f = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schemas.staged_schema()), f)
    find_templates([f], 3, tmp_path / "t.parquet", min_docs_short=2, short_words=10)
    t = pq.read_table(tmp_path / "t.parquet").to_pylist()
    assert [r["key"] for r in t] == template_keys(["Site Name"])


def test_site_template_and_duplicate_paragraphs_in_a_run(tmp_path):
    site = tmp_path / "in" / "harbourpost"
    site.mkdir(parents=True)
    for i in range(4):
        (site / f"page{i}.txt").write_text(_page(i, ["early", "worrying", "surprising", "welcome"][i]))
    # two different sites' articles: the second quotes one paragraph of the first verbatim
    recs = [
        {"id": "a", "url": "https://one.example/a", "text": "Dredging approved\n" + "\n".join(BODY)},
        {"id": "b", "url": "https://two.example/b", "text": "\n".join([
            "Council debates parking charges",
            "Councillors spent three hours debating new parking charges for the old town on Thursday night.",
            BODY[1],
            "A decision was postponed until the budget meeting in December, the mayor's office said."])},
    ]
    (tmp_path / "in" / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    # the line model off: it would take the site name at the page head before the template stage can
    counts = run_flow([tmp_path / "in"], tmp_path / "out", content={"enabled": False})
    assert_reconciles(tmp_path / "out", counts)
    removed = read_dataset(tmp_path / "out", "removed").to_pylist()
    docs = {d["doc_id"]: d for d in read_dataset(tmp_path / "out", "documents").to_pylist()}
    tpl = [r for r in removed if r["reason"] == "site_template"]
    assert sorted({r["text"] for r in tpl}) == ["The Harbour Post", "The Harbour Post, 12 Quay Street, Portlow"]
    assert all("on 4 pages" in r["detail"] for r in tpl)
    assert sorted(r["text"] for r in tpl).count("The Harbour Post") == 4
    # the "Updated <date>" line is a timestamp rule's, not left for the template stage
    updated = [r for r in removed if r["text"].startswith("Updated")]
    assert len(updated) == 4 and all(r["reason"] == "boilerplate" and r["rule"] for r in updated)
    for i in range(4):
        assert "Harbour Post" not in docs[f"harbourpost/page{i}"]["text"]
    dup = [r for r in removed if r["reason"] == "duplicate_paragraph"]
    assert len(dup) == 1
    assert dup[0]["doc_id"] == "b" and dup[0]["duplicate_of"] == "a" and dup[0]["text"] == BODY[1]
    assert dup[0]["duplicate_of_paragraph"] == 2 and dup[0]["paragraph_index"] == 2
    assert BODY[1] in docs["a"]["text"] and BODY[1] not in docs["b"]["text"]
    assert counts["paragraphs_removed"]["duplicate_paragraph"] == 1
    assert counts["paragraphs_removed"]["site_template"] == len(tpl)


def test_template_runs_inside_the_page_text_stay():
    from scrapewash.tasks.sign import template_mask
    t = {1: 4, 2: 4, 3: 4}
    keys = [1, 9, 2, 8, 2, 3, 7, 1, 2, 3, 6, 1]  # 1, 2, 3: template keys; others: the page's own
    assert template_mask(keys, t) == [k in t for k in keys]  # off: every template key goes
    assert template_mask(keys, t, 0) == template_mask(keys, t)
    # runs at the page's head and foot always go; inside it, runs up to the given length stay
    assert template_mask(keys, t, 1) == [True, False, False, False, True, True, False, True, True, True, False, True]
    assert template_mask(keys, t, 2) == [True, False, False, False, False, False, False, True, True, True, False, True]
    assert template_mask(keys, t, 3) == [True] + [False] * 10 + [True]
    assert template_mask([1, 2], t, 3) == [True, True]  # nothing of the page's own around them
    assert template_mask([], t, 2) == [] and template_mask([5, 1], None, 2) == [False, False]


def test_a_heading_every_review_of_a_site_carries_stays_in_its_text(tmp_path):
    # four reviews of one site, each with its own "Pros" and "Cons" lists between its paragraphs,
    # and the site's footer: the footer is template, the headings are the reviews' own
    site = tmp_path / "in" / "gadgetdesk"
    site.mkdir(parents=True)
    for i in range(4):
        (site / f"r{i}.txt").write_text("\n".join([
            f"The {TOPICS[i]} gadget reviewed: small, quick and {['cheap', 'loud', 'odd', 'bright'][i]}",
            f"We tested the {TOPICS[i]} gadget for two weeks near {PLACES[i]} and in the office, "
            "and it held up better than most devices in its price range.",
            "Pros",
            f"- It handles the {TOPICS[i]} well",
            "Cons",
            f"- The case scratches near {PLACES[i]}",
            f"Overall the {TOPICS[i]} gadget earns a cautious recommendation from our reviewers this month.",
            "Gadget Desk, 4 Mill Lane, Portlow",
        ]))
    counts = run_flow([tmp_path / "in"], tmp_path / "out", content={"enabled": False},
                      templates={"embedded_run": 2})
    assert_reconciles(tmp_path / "out", counts)
    removed = read_dataset(tmp_path / "out", "removed").to_pylist()
    assert sorted(r["text"] for r in removed if r["reason"] == "site_template") == [
        "Gadget Desk, 4 Mill Lane, Portlow"] * 4
    for d in read_dataset(tmp_path / "out", "documents").to_pylist():
        assert "\n\nPros\n\n" in d["text"] and "\n\nCons\n\n" in d["text"], d["text"]
    # without the exception the headings go from every review
    counts = run_flow([tmp_path / "in"], tmp_path / "out0", content={"enabled": False},
                      templates={"embedded_run": 0})
    removed = read_dataset(tmp_path / "out0", "removed").to_pylist()
    assert sorted(r["text"] for r in removed if r["reason"] == "site_template").count("Pros") == 4


def test_corpus_stages_can_be_switched_off(tmp_path):
    site = tmp_path / "in"
    site.mkdir()
    for i in range(4):
        (site / f"p{i}.txt").write_text(_page(i, "x"))
    counts = run_flow([site], tmp_path / "out", templates={"enabled": False},
                      paragraph_dedup={"enabled": False})
    assert "site_template" not in counts["paragraphs_removed"]
    assert_reconciles(tmp_path / "out", counts)


LONG = ("The regional water board said on Tuesday that reservoir levels had fallen to their lowest point "
        "in twelve years after a dry spring, and asked households to cut garden watering by half until "
        "the September rains arrive.")
# the same paragraph as another outlet ran it: one word changed, one typo, a clause dropped
LONG_EDITED = ("The regional water board said on Tuesday that reservoir levels had fallen to their lowest level "
               "in twelve years after a dry spring, and asked households to cut garden waterign by half until "
               "the September rains arrive.")
UNRELATED = ("The regional football league said on Tuesday that ticket prices had risen to their highest point "
             "in twelve years after a busy spring, and asked supporters to buy season passes early before "
             "the September fixtures arrive.")


def _near_copy_corpus(tmp_path):
    """A folder of three pages on three sites: b carries a near copy of a's long paragraph
    (LONG_EDITED of LONG), c an unrelated one of the same shape."""
    recs = [
        {"id": "a", "url": "https://one.example/a", "text": "\n".join(["Reservoirs at a twelve-year low", LONG,
                                                                      BODY[0]])},
        {"id": "b", "url": "https://two.example/b", "text": "\n".join(["Water board asks for restraint",
                                                                      BODY[3], LONG_EDITED, BODY[2]])},
        {"id": "c", "url": "https://three.example/c", "text": "\n".join(["Ticket prices climb", UNRELATED,
                                                                        BODY[1]])},
    ]
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "news.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return inp


def test_near_duplicate_paragraph_across_documents(tmp_path):
    from scrapewash.tasks.dedup import paragraph_shingles
    from scrapewash.tasks.minhash import exact_jaccard

    sim = exact_jaccard(paragraph_shingles(LONG, 3), paragraph_shingles(LONG_EDITED, 3))
    assert 0.7 <= sim < 1.0
    assert exact_jaccard(paragraph_shingles(LONG, 3), paragraph_shingles(UNRELATED, 3)) < 0.3
    inp = _near_copy_corpus(tmp_path)
    counts = run_flow([inp], tmp_path / "out")
    assert_reconciles(tmp_path / "out", counts)
    removed = [r for r in read_dataset(tmp_path / "out", "removed").to_pylist()
               if r["reason"] == "duplicate_paragraph"]
    assert len(removed) == 1, removed
    r = removed[0]
    assert (r["doc_id"], r["paragraph_index"], r["duplicate_of"], r["duplicate_of_paragraph"]) == ("b", 2, "a", 1)
    assert r["text"] == LONG_EDITED and abs(r["similarity"] - sim) < 1e-3
    assert r["detail"].startswith("nearly repeats (Jaccard")
    docs = {d["doc_id"]: d["text"] for d in read_dataset(tmp_path / "out", "documents").to_pylist()}
    assert LONG in docs["a"] and LONG_EDITED not in docs["b"] and UNRELATED in docs["c"]
    # with the near pass off, only exact copies go
    counts = run_flow([inp], tmp_path / "out2", paragraph_dedup={"near": False})
    assert "duplicate_paragraph" not in counts["paragraphs_removed"]


def test_near_paragraph_chain_keeps_a_paragraph_whose_only_match_was_removed(tmp_path):
    """A~B and B~C but not A~C: B goes (copy of A), C stays, so every removal points at a kept paragraph."""
    from scrapewash.tasks import dedup
    from scrapewash.tasks.minhash import exact_jaccard

    words = [f"w{i}" for i in range(40)]
    a = " ".join(words)
    b = " ".join(words[6:] + [f"x{i}" for i in range(6)])
    c = " ".join(words[12:] + [f"x{i}" for i in range(12)])
    sa, sb, sc = (dedup.paragraph_shingles(t, 3) for t in (a, b, c))
    assert exact_jaccard(sa, sb) >= 0.7 and exact_jaccard(sb, sc) >= 0.7 and exact_jaccard(sa, sc) < 0.7
    import pyarrow as pa

    from scrapewash import schemas
    keys = dedup.paragraph_band_keys([sa, sb, sc], 1)
    staging = tmp_path / "staging"
    (staging / "signed").mkdir(parents=True)
    (staging / "prepared").mkdir()
    signed = pa.Table.from_pylist([
        {"order": o, "doc_id": d, "text": t, "n_words": 40, "signature": None, "phash": [], "pindex": [],
         "pnear": [0], "pkeys": keys[o].tolist()} for o, (d, t) in enumerate([("A", a), ("B", b), ("C", c)])],
        schema=schemas.signed_schema(128))
    pq.write_table(signed, staging / "signed" / "shard-00000.parquet")
    pq.write_table(pa.table({"order": [0, 1, 2], "paragraphs": [[a], [b], [c]], "pindex": [[0], [0], [0]]}),
                   staging / "prepared" / "shard-00000.parquet")
    out = staging / "pdec.parquet"
    stats = dedup.find_duplicate_paragraphs([staging / "signed" / "shard-00000.parquet"],
                                            [staging / "prepared" / "shard-00000.parquet"],
                                            staging / "none.parquet", out)
    rows = pq.read_table(out).to_pylist()
    assert [(r["order"], r["duplicate_of"]) for r in rows] == [(1, "A")]
    assert stats["near_verified_pairs"] == 2 and stats["near_duplicates"] == 1


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["Jan", "january", "MAY", "mayday", "mon_", "_sun", "Sun", "2024", "٣", "²", "x_1",
                                 "__", "_", " ", "-", ".", "\t", "İ", "ß", "ﬁ", "Σ", "word", "Word", "a1b2",
                                 "sept.", "Thurs", "é", "’", "“", "—", "\u00a0", "…", "©", "12:45"]), max_size=20)
       .map("".join))
def test_template_forms_word_by_word_equal_the_patterns(text):
    from scrapewash.tasks import templates

    assert templates.template_forms([text, text.upper()]) == [templates.template_form(text),
                                                              templates.template_form(text.upper())]


_TEMPLATE_ATOMS = ["Jan", "january", "MAY", "2024", "word", "Word", "a1b2", "Thurs", " ", "-", ".", "’", "—", "\u00a0",
                   "_", "é", "\n", "Sun."]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TEMPLATE_ATOMS), max_size=12).map("".join), max_size=8))
def test_template_forms_of_a_page_equal_one_by_one(paragraphs):
    from scrapewash.tasks import templates

    assert templates.template_forms(paragraphs) == [templates.template_form(p) for p in paragraphs]


def _near_fixture(tmp_path, shards: int):
    """Documents of several paragraphs, some near copies of others across documents, cut into
    ``shards`` signed and prepared shards (as the sign stage writes them)."""
    import random

    import pyarrow as pa

    from scrapewash import schemas
    from scrapewash.tasks import dedup

    rnd = random.Random(7)
    vocab = [f"w{i}" for i in range(300)]
    originals = [" ".join(rnd.choice(vocab) for _ in range(40)) for _ in range(12)]

    def edit(text: str) -> str:  # one word changed: Jaccard of 3-word shingles about 0.85
        w = text.split()
        w[20] = "edited"
        return " ".join(w)

    docs = []
    for o in range(24):
        paras = [originals[o % 12] if o < 12 else edit(originals[o % 12]),
                 " ".join(rnd.choice(vocab) for _ in range(30)), "short line"]
        docs.append((o, f"d{o}", paras))
    root = tmp_path / f"s{shards}"
    (root / "signed").mkdir(parents=True)
    (root / "prepared").mkdir()
    signed, prepared = [], []
    for s in range(shards):
        part = [d for d in docs if d[0] % shards == s] if shards > 1 else docs
        part.sort()
        near = [[i for i, p in enumerate(paras) if len(p.split()) >= 15] for _, _, paras in part]
        keys = [dedup.paragraph_band_keys([dedup.paragraph_shingles(paras[i], 3) for i in ix], 1).ravel().tolist()
                for (_, _, paras), ix in zip(part, near, strict=True)]
        t = pa.Table.from_pylist([
            {"order": o, "doc_id": d, "text": "\n\n".join(paras), "n_words": 70, "signature": None, "phash": [],
             "pindex": [], "pnear": ix, "pkeys": k} for (o, d, paras), ix, k in zip(part, near, keys, strict=True)],
            schema=schemas.signed_schema(128))
        pq.write_table(t, root / "signed" / f"shard-{s:05d}.parquet")
        pq.write_table(pa.table({"order": [o for o, _, _ in part], "paragraphs": [p for _, _, p in part],
                                 "pindex": [list(range(len(p))) for _, _, p in part]}),
                       root / "prepared" / f"shard-{s:05d}.parquet")
        signed.append(root / "signed" / f"shard-{s:05d}.parquet")
        prepared.append(root / "prepared" / f"shard-{s:05d}.parquet")
    return root, signed, prepared


def test_near_paragraph_pass_does_not_depend_on_shards_or_their_order(tmp_path):
    from scrapewash.tasks import dedup

    results = []
    for shards, reverse in [(1, False), (3, False), (3, True)]:
        root, signed, prepared = _near_fixture(tmp_path / f"{shards}{reverse}", shards)
        if reverse:
            signed, prepared = signed[::-1], prepared[::-1]
        out = root / "pdec.parquet"
        stats = dedup.find_duplicate_paragraphs(signed, prepared, root / "none.parquet", out)
        results.append((pq.read_table(out).to_pylist(), stats["near_verified_pairs"]))
    rows = results[0][0]
    # every edited copy (documents 12-23, first paragraph) points at its original
    assert [(r["order"], r["paragraph_index"], r["duplicate_of"], r["duplicate_of_paragraph"]) for r in rows] == [
        (o, 0, f"d{o - 12}", 0) for o in range(12, 24)]
    assert all(0.7 <= r["similarity"] < 1 for r in rows)
    assert results[1] == results[0] and results[2] == results[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 6), st.booleans()), max_size=80))
def test_documents_per_key_equals_counting_distinct_records(rows):
    """find_templates' counting (one stable sort of the columns) equals the plain definition: each
    distinct (site, key), ascending, the distinct documents it is on, and whether it was short where
    it first occurred in its first document."""
    import numpy as np

    from scrapewash.tasks.templates import _documents_per_key

    site = np.array([r[0] for r in rows], dtype=np.int64)
    key = np.array([2**63 + r[1] if r[1] % 2 else r[1] for r in rows], dtype=np.uint64)
    order = np.array([r[2] for r in rows], dtype=np.int64)
    short = np.array([r[3] for r in rows], dtype=bool)
    docs: dict[tuple[int, int], set[int]] = {}
    first: dict[tuple[int, int], tuple[int, int]] = {}  # (site, key) -> (document, row) it first shows in
    for i, (s_, k_, o_) in enumerate(zip(site.tolist(), key.tolist(), order.tolist(), strict=True)):
        docs.setdefault((s_, k_), set()).add(o_)
        if (s_, k_) not in first or o_ < first[(s_, k_)][0]:
            first[(s_, k_)] = (o_, i)
    want = sorted(docs)
    gs, gk, counts, is_short = _documents_per_key(site, key, order, short)
    assert list(zip(gs.tolist(), gk.tolist(), strict=True)) == want
    assert counts.tolist() == [len(docs[w]) for w in want]
    assert is_short.tolist() == [bool(short[first[w][1]]) for w in want]


def test_corpus_stages_read_the_shards_on_threads_in_their_order(monkeypatch):
    """The corpus-wide stages read shards a few at a time on threads (so the cores the shard tasks
    used are not idle); what they get back is in the files' order, as reading one by one gives."""
    import threading
    import time as _time

    from scrapewash.tasks import dedup

    def slow_first(f):
        _time.sleep(0.2 if f == 0 else 0.0)  # the first file's result comes last
        return f, threading.current_thread().name

    monkeypatch.setattr(dedup, "READ_THREADS", 3)
    got = dedup.per_file(slow_first, list(range(7)))
    assert [f for f, _ in got] == list(range(7))
    assert all(name.startswith("scrapewash-read") for _, name in got)
    monkeypatch.setattr(dedup, "READ_THREADS", 1)
    assert {name for _, name in dedup.per_file(slow_first, [0, 1])} == {threading.current_thread().name}


def test_find_templates_numbers_sites_in_name_order_whatever_comes_first(tmp_path):
    """Sites seen in any order across shards give the same template rows and run statistics."""
    import pyarrow as pa

    from scrapewash import schemas

    def shard(path, pages):
        rows = [{"order": order, "doc_id": str(order), "url": None, "source": "s", "input_position": "s",
                 "site": site, "paragraphs": paras, "pindex": list(range(len(paras))),
                 "tkeys": template_keys(paras), "twords": [len(x.split()) for x in paras],
                 "n_removed_paragraphs": 0, "encoding_fixes": [], "metadata": None} for order, site, paras in pages]
        pq.write_table(pa.Table.from_pylist(rows, schema=schemas.staged_schema()), path)
        return path

    pages = [(o, site, ["Menu", f"own words {o} {site}", "Footer line"]) for o, site in
             enumerate(["zeta.example", "alpha.example", "zeta.example", "mid.example", "alpha.example",
                        "zeta.example", "alpha.example", "mid.example"])]
    a = shard(tmp_path / "a.parquet", pages[:4])
    b = shard(tmp_path / "b.parquet", pages[4:])
    out = []
    for files in ([a, b], [b, a]):
        find_templates(files, 3, tmp_path / "t.parquet", stats_out=tmp_path / "s.parquet")
        out.append((pq.read_table(tmp_path / "t.parquet").to_pylist(), pq.read_table(tmp_path / "s.parquet")))
    t, stats = out[0]
    assert out[1][0] == t and out[1][1].equals(stats)
    assert sorted({(r["site"], r["n_docs"]) for r in t}) == [("alpha.example", 3), ("zeta.example", 3)]
    sites = stats["site"].to_pylist()
    assert sites == sorted(sites)  # grouped in name order, as the index expects
    assert dict(zip(zip(sites, stats["key"].to_pylist(), strict=True), stats["n_docs"].to_pylist(), strict=True))[
        ("mid.example", template_keys(["Menu"])[0])] == 2


def test_signed_shard_rows_equal_their_per_document_definitions(tmp_path):
    """The sign stage works on a batch of documents at once; each row is what its definitions give
    for that document alone: the text without its site's template, its token count and MinHash
    signature, the exact keys of its paragraphs long enough to judge and the band keys of those long
    enough to judge as near copies. Pages mix ASCII, typographic and accented text."""
    import random
    from datetime import datetime

    import numpy as np

    from scrapewash.config import Config
    from scrapewash.tasks import dedup, minhash, prepare, repeats, sign, templates
    from scrapewash.tasks.read import plan_inputs
    from scrapewash.tasks.write import RunPaths

    rng = random.Random(3)
    words = ("harbour ferry storm vote council pier market night crews silt permit tide "
             "café naïve “quoted” señor — déjà").split()
    recs = []
    for i in range(60):
        paras = ["Site footer line for the paper", f"Headline number {i} about the {rng.choice(words)}"]
        paras += [" ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) + "." for _ in range(rng.randint(1, 7))]
        if i % 3 == 0:
            paras.append(BODY[i % 4])
        recs.append({"id": f"d{i}", "url": f"https://site{i % 3}.example/{i}", "text": "\n".join(paras)})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
    # pages of random words: the line model would empty a few, and every page should reach the sign stage
    cfg = Config.model_validate({"content": {"empty_pages": False}})
    plan = plan_inputs([str(tmp_path / "in")], cfg.read.docs_per_shard, cfg.read.bytes_per_shard)
    paths = RunPaths(tmp_path / "out", "r")
    prepare.prepare_shard(plan.shards[0], paths, cfg, datetime.now(UTC))
    prepared = paths.staging / "prepared" / "shard-00000.parquet"
    t = cfg.templates
    find_templates([prepared], t.min_docs, paths.staging / "t.parquet", t.min_docs_short, t.short_words,
                   paths.staging / "t.json", None, [])
    sign.sign_shard(0, paths, cfg, paths.staging / "t.parquet")
    site_templates = templates.load_templates(paths.staging / "t.parquet")
    assert site_templates, "the footer line is a template on each site"
    d, pd = cfg.dedup, cfg.paragraph_dedup
    perms = minhash.permutations(d.num_perm, d.seed)
    near_perms = minhash.permutations(dedup.PARAGRAPH_PERM, d.seed)
    rows = pq.read_table(paths.staging / "signed" / "shard-00000.parquet").to_pylist()
    staged = pq.read_table(prepared).to_pylist()
    assert len(rows) == len(staged) == 60
    n_templates = n_near = 0
    for row, rec in zip(rows, staged, strict=True):
        mask = sign.template_mask(rec["tkeys"], site_templates.get(rec["site"]), cfg.templates.embedded_run)
        n_templates += sum(mask)
        kept = [k for k, m in enumerate(mask) if not m]
        text = "\n\n".join(rec["paragraphs"][k] for k in kept)
        th = minhash.text_token_hashes(text)
        assert row["text"] == text and row["n_words"] == len(th)
        want_sig = (minhash.signature(minhash.shingle_hashes(th, d.shingle_words), perms).tolist()
                    if len(th) >= d.min_words else None)
        assert row["signature"] == want_sig
        judged = [k for k in kept if rec["twords"][k] >= pd.min_words]
        assert row["pindex"] == [rec["pindex"][k] for k in judged]
        assert row["phash"] == [int.from_bytes(repeats.paragraph_hash(rec["paragraphs"][k]), "little")
                                for k in judged]
        near = [k for k in kept if rec["twords"][k] >= pd.near_min_words]
        assert row["pnear"] == [rec["pindex"][k] for k in near]
        want_keys = [minhash.set_band_keys(minhash.text_token_hashes(rec["paragraphs"][k]), np.array([0, len(
            minhash.text_token_hashes(rec["paragraphs"][k]))]), pd.near_shingle_words, near_perms,
            dedup.PARAGRAPH_BANDS, dedup.PARAGRAPH_ROWS).ravel().tolist() for k in near]
        assert row["pkeys"] == [x for keys in want_keys for x in keys]
        n_near += len(near)
    assert n_templates >= 40 and n_near >= 30


def test_staged_removal_rows_are_one_row_per_removal_in_order(tmp_path):
    """The prepare stage gathers a shard's removal rows column by column, a document at a time; they
    are the rows ``removal_row`` makes of each document's removals, in the documents' order, with an
    emptied document's own row after its paragraphs' rows, also when a small row-group size splits
    them over several row groups."""
    from datetime import datetime

    from scrapewash.config import Config
    from scrapewash.tasks import prepare
    from scrapewash.tasks.clean import Cleaner
    from scrapewash.tasks.read import Fields, plan_inputs, read_shard
    from scrapewash.tasks.write import RunPaths

    recs = []
    for i in range(40):
        text = "\n".join([_page(i % 4, f"item {i}"), "Leave a Reply", "Your email address will not be published.",
                          BODY[i % 4], BODY[i % 4], "Share this:", "Facebook", "Twitter"])
        if i % 9 == 4:  # nothing but boilerplate: the document goes too
            text = "Leave a Reply\nYour email address will not be published.\nShare this:"
        recs.append({"id": f"d{i}", "url": None if i % 5 == 0 else f"https://s{i % 2}.example/{i}", "text": text})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    cfg = Config()
    cfg.output.row_group_bytes = 4096
    plan = plan_inputs([str(tmp_path / "in")], cfg.read.docs_per_shard, cfg.read.bytes_per_shard)
    paths = RunPaths(tmp_path / "out", "r")
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    stats = prepare.prepare_shard(plan.shards[0], paths, cfg, now)
    path = paths.staging / "premoved" / "shard-00000.parquet"
    got = pq.read_table(path)
    assert pq.ParquetFile(path).metadata.num_row_groups > 1
    assert got.schema.equals(schemas.staged_removed_schema(), check_metadata=True)

    want = []
    cleaner = Cleaner(cfg)
    fields = Fields(cfg.read.text_field, cfg.read.id_field, cfg.read.url_field)
    for rec in read_shard(plan.shards[0], fields, cfg.read.max_document_chars):
        doc = cleaner.clean(rec)
        want += [prepare.removal_row(r, source=rec.source, url=rec.url, run_id="r", processed_at=now, order=rec.order)
                 for r in doc.removals]
        if not doc.paragraphs:
            want.append({"doc_id": rec.doc_id, "part": "document", "reason": "empty_document", "order": rec.order})
    rows = got.to_pylist()
    assert len(rows) == len(want) == sum(stats["removed_paragraphs"].values()) + sum(
        stats["removed_fragments"].values()) + stats["removed_documents"]["empty_document"]
    assert stats["removed_documents"]["empty_document"] == 4
    for row, w in zip(rows, want, strict=True):
        if w.get("part") == "document":
            assert {k: row[k] for k in w} == w
            assert row["detail"].startswith("all 3 paragraphs were removed") and row["paragraph_index"] is None
        else:
            assert row == w


def test_shared_bands_counts_equal_keys_per_pair():
    import numpy as np

    from scrapewash.tasks.dedup import _shared_bands

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 3, size=(40, 16)).astype(np.uint64)  # few values: many shared bands
    pairs = np.array([(i, j) for i in range(40) for j in range(i + 1, 40)], dtype=np.int64)
    expected = [sum(int(keys[i, b] == keys[j, b]) for b in range(16)) for i, j in pairs]
    assert _shared_bands(keys, pairs, chunk=7).tolist() == expected


def test_near_pairs_sharing_two_bands_find_the_same_copy(tmp_path):
    """``near_min_bands = 2`` compares only candidates sharing two bands: the near copy (Jaccard
    0.7 or more) is found as with any band."""
    inp = _near_copy_corpus(tmp_path)
    found = {}
    for bands in (1, 2):
        out = tmp_path / f"out{bands}"
        counts = run_flow([inp], out, paragraph_dedup={"near_min_bands": bands})
        assert_reconciles(out, counts)
        found[bands] = [(r["doc_id"], r["paragraph_index"], r["duplicate_of"], r["similarity"])
                        for r in read_dataset(out, "removed").to_pylist() if r["reason"] == "duplicate_paragraph"]
    assert found[2] == found[1] and [f[:3] for f in found[2]] == [("b", 2, "a")]
