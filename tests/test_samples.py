"""The bundled sample corpus against its written-down ground truth (samples/news/expected.json)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from conftest import SAMPLES, read_dataset, run_flow
from scrapewash.config import Config

EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
RELATED_HEADER = re.compile(r"^(related( articles| stories)?|you may also like|more on this topic|read (more|also))\b",
                            re.I)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    counts = run_flow([SAMPLES], out)
    docs = {d["doc_id"]: d for d in read_dataset(out, "documents").to_pylist()}
    removed = read_dataset(out, "removed").to_pylist()
    return counts, docs, removed


def _kept_paragraphs(docs, removed, doc_id):
    if doc_id in docs:
        return docs[doc_id]["text"].split("\n\n")
    whole = [r for r in removed if r["doc_id"] == doc_id and r["part"] == "document"]
    assert whole, f"{doc_id} is neither kept nor removed"
    return whole[0]["text"].split("\n\n") if whole[0]["text"] else []


def _under_related_header(doc_id: str, line: str) -> bool:
    """Headlines listed under a related-links header: only context can tell them from content."""
    paras = _raw_paragraphs(doc_id)
    if line in paras:
        i = paras.index(line)
        j = i - 1
        while j >= 0 and paras[j] in EXPECTED["boilerplate"].get(doc_id, []) and not RELATED_HEADER.match(paras[j]):
            j -= 1
        return j >= 0 and bool(RELATED_HEADER.match(paras[j]))
    return False


def _raw_paragraphs(doc_id):
    from scrapewash.config import EncodingConfig
    from scrapewash.tasks.encoding import repair, split_paragraphs

    if doc_id.startswith("pages/"):
        text = (SAMPLES / f"{doc_id}.txt").read_text(encoding="utf-8")
    else:
        text = next(json.loads(line)["text"] for line in (SAMPLES / "articles.jsonl").read_text().splitlines()
                    if json.loads(line)["id"] == doc_id)
    return split_paragraphs(repair(text, EncodingConfig())[0])


def test_planted_boilerplate_removed(run):
    _, docs, removed = run
    missed, deferred, total = [], [], 0
    for doc_id, lines in EXPECTED["boilerplate"].items():
        kept = set(_kept_paragraphs(docs, removed, doc_id))
        for line in lines:
            total += 1
            if line in kept:
                (deferred if _under_related_header(doc_id, line) else missed).append((doc_id, line))
    assert total > 150
    assert missed == []
    assert len(deferred) <= 4


def test_site_template_lines_gone_from_every_page(run):
    _, docs, removed = run
    per_page = Counter(p for d in EXPECTED["boilerplate"] if d.startswith("pages/")
                       for p in set(EXPECTED["boilerplate"][d]))
    template_lines = {line for line, n in per_page.items() if n == 5}
    pages = {d for d in EXPECTED["boilerplate"] if d.startswith("pages/")}
    for page in pages:  # every line of the template is gone from every page: by a rule, the line model,
        gone = {r["text"] for r in removed if r["doc_id"] == page}  # or as template
        assert template_lines <= gone, page


def test_site_template_learned_from_the_pages(tmp_path):
    """With the line model off, the corpus alone tells the site's name and address are template."""
    config = Config.model_validate({"content": {"enabled": False}})
    run_flow([SAMPLES / "pages"], tmp_path, config)
    removed = read_dataset(tmp_path, "removed").to_pylist()
    rows = [r for r in removed if r["reason"] == "site_template"]
    pages = {d.removeprefix("pages/") for d in EXPECTED["boilerplate"] if d.startswith("pages/")}
    # the site name itself is no rule's business: only the corpus can tell it is template
    assert {r["doc_id"] for r in rows if r["text"] == "Tarrow Valley Gazette"} == pages
    assert all(re.search(r"on [345] pages", r["detail"]) for r in rows)


def test_sentences_that_mention_boilerplate_topics_kept(run):
    _, docs, _ = run
    n = 0
    for doc_id, sentences in EXPECTED["must_keep"].items():
        text = docs[doc_id]["text"] if doc_id in docs else None
        if text is None:  # a syndicated copy removed as a whole: its survivor must keep the sentence
            continue
        for s in sentences:
            assert s in text, (doc_id, s)
            n += 1
    assert n >= 15


def test_repeated_paragraphs_removed_once(run):
    _, docs, removed = run
    for doc_id, starts in EXPECTED["repeated"].items():
        rows = [r for r in removed if r["doc_id"] == doc_id and r["reason"] == "repeated_paragraph"]
        for start in starts:
            hits = [r for r in rows if r["text"].startswith(start)]
            assert len(hits) == 1, (doc_id, start)
            if doc_id in docs:
                assert sum(p.startswith(start) for p in docs[doc_id]["text"].split("\n\n")) == 1


def test_syndicated_copies_folded_into_the_first(run):
    counts, docs, removed = run
    groups = EXPECTED["syndicated_groups"] + EXPECTED["with_pages"]["syndicated_groups"]
    dup = {r["doc_id"]: r for r in removed if r["reason"] == "near_duplicate_document"}
    merged: list[set[str]] = []
    for g in groups:
        for m in merged:
            if m & set(g):
                m.update(g)
                break
        else:
            merged.append(set(g))
    for group in merged:
        survivors = [d for d in group if d in docs]
        assert len(survivors) == 1, group
        keep = survivors[0]
        assert docs[keep]["duplicates"] == len(group) - 1
        for d in group - {keep}:
            assert dup[d]["duplicate_of"] == keep and dup[d]["similarity"] >= 0.7
    assert len(dup) == sum(len(g) - 1 for g in merged)


def test_same_topic_articles_not_duplicates(run):
    _, docs, _ = run
    for pair in EXPECTED["same_topic_not_duplicates"] + EXPECTED["with_pages"]["same_topic_not_duplicates"]:
        for d in pair:
            assert d in docs and docs[d]["duplicates"] == 0


def test_clean_empty_and_bad_inputs(run):
    counts, docs, removed = run
    for d in EXPECTED["clean"]:
        assert docs[d]["n_removed_paragraphs"] == 0
        assert not [r for r in removed if r["doc_id"] == d]
    empties = {r["doc_id"]: r for r in removed if r["reason"] == "empty_document"}
    assert set(empties) == set(EXPECTED["empty_after_cleaning"] + EXPECTED["empty_input"])
    assert "no text" in empties[EXPECTED["empty_input"][0]]["detail"]
    assert counts["quarantine_errors"] == {"bad_text_type": 1, "malformed_json": 1, "missing_text": 1,
                                           "truncated_file": 1}
    notes = next(d for d in docs.values() if d["doc_id"] == "bad/notes")
    assert "decoded_windows_1252" in notes["encoding_fixes"]
    fixed = [d for d in docs.values() if d["encoding_fixes"]]
    assert len(fixed) >= 5
    for d in docs.values():
        assert "\u00a0" not in d["text"] and "â€" not in d["text"] and "&amp;" not in d["text"]
