"""The five real seed articles are cleaned exactly, line by line."""

from __future__ import annotations

import re

import pytest

from conftest import SEEDS, assert_reconciles, need_shared, read_dataset, run_flow
from scrapewash.config import EncodingConfig
from scrapewash.tasks.encoding import repair, split_paragraphs

# Boilerplate lines named in the seeds' README, by seed (exact paragraphs after repair).
BOILERPLATE = {
    "000": {"Be the first to comment", "Leave a Reply", "Your email address will not be published."},
    "001": {"0 $", "2,500 $", "5,000 $", "1,333 $", "More on this topic:",
            "Do you like this content? Consider helping us!"},
    "002": {"Last modified onSaturday, 06 May 2017 10:07"},
    "003": {"Image courtesy of the Department of Defense", "COMMENTS", "There are on this article.",
            "You must become a subscriber or login to view or post comments on this article."},
    "004": set(),
}
# The headline's paragraph, by seed (001 opens with its donation widget): it moves from the text
# to the title column.
TITLED = {"000": 0, "001": 4, "002": 0}
CAPTION = re.compile(r"/ AFP PHOTO / [A-Z ]+$")  # the photo caption of 001
CREDIT_PREFIX = "Image By Ali Cinar- "  # the credit glued to the first paragraph of 002


def _input_paragraphs(path):
    text, _ = repair(path.read_text(encoding="utf-8"), EncodingConfig())
    return split_paragraphs(text)


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    need_shared(SEEDS)
    out = tmp_path_factory.mktemp("seeds")
    counts = run_flow([SEEDS], out)
    assert_reconciles(out, counts)
    docs = read_dataset(out, "documents").to_pylist()
    removed = read_dataset(out, "removed").to_pylist()
    return counts, {d["doc_id"]: d for d in docs}, removed


def _seed_files():
    return sorted(SEEDS.glob("*.txt")) if SEEDS.exists() else []


def test_all_five_kept_none_taken_for_duplicates(seed_run):
    counts, docs, removed = seed_run
    assert len(docs) == 5
    assert counts["documents_out"] == 5
    assert counts["quarantined"] == 0
    assert not [r for r in removed if r["part"] == "document"]


@pytest.mark.parametrize("path", _seed_files(), ids=lambda p: p.name[:3])
def test_seed_cleaned_line_by_line(seed_run, path):
    _, docs, removed = seed_run
    key = path.name[:3]
    doc_id = path.stem
    paragraphs = _input_paragraphs(path)
    mine = [r for r in removed if r["doc_id"] == doc_id]
    by_index = {}
    for r in mine:
        by_index.setdefault(r["paragraph_index"], []).append(r)

    # What must go: the named boilerplate, the caption, and repeats of earlier paragraphs.
    expected_removed: dict[int, str] = {}
    first_seen: dict[str, int] = {}
    for i, p in enumerate(paragraphs):
        if p in BOILERPLATE[key] or (key == "001" and CAPTION.search(p)):
            expected_removed[i] = "boilerplate"
        elif p in first_seen:
            expected_removed[i] = "repeated_paragraph"
        else:
            first_seen[p] = i
    if key in TITLED:
        expected_removed[TITLED[key]] = "title"
    if key == "001":
        assert list(expected_removed.values()).count("repeated_paragraph") == 1  # the headline
    if key == "003":
        assert list(expected_removed.values()).count("repeated_paragraph") == 8  # the repeated block

    # Every expected removal happened, with the right reason, and nothing else was removed.
    got = {i: rs[-1]["reason"] for i, rs in by_index.items() if rs[-1]["part"] == "paragraph"}
    assert got == expected_removed
    for i, reason in expected_removed.items():
        row = [r for r in by_index[i] if r["part"] == "paragraph"][0]
        assert row["text"] == paragraphs[i]
        if reason == "boilerplate":
            assert row["rule"], f"boilerplate removal without a rule id: {row}"
        elif reason == "title":
            assert row["rule"] == "title/head" and "title column" in row["detail"]
        else:
            assert row["duplicate_of"] == doc_id
            j = row["duplicate_of_paragraph"]
            assert paragraphs[j] == paragraphs[i] and j < i

    # Kept text: every other paragraph, in order (002 loses only its glued credit).
    expected_kept = [p for i, p in enumerate(paragraphs) if i not in expected_removed]
    if key == "002":  # (its headline gone to the title column, the credit is on the text's first paragraph)
        assert expected_kept[0].startswith(CREDIT_PREFIX)
        expected_kept[0] = expected_kept[0][len(CREDIT_PREFIX):]
        frag = [r for r in mine if r["part"] == "fragment"]
        assert len(frag) == 1 and frag[0]["text"] == CREDIT_PREFIX.strip() and frag[0]["rule"]
    else:
        assert not [r for r in mine if r["part"] == "fragment"]
    doc = docs[doc_id]
    assert doc["text"].split("\n\n") == expected_kept
    assert doc["n_paragraphs"] == len(expected_kept)
    assert doc["n_removed_paragraphs"] == len(expected_removed)
    assert doc["title"] == (paragraphs[TITLED[key]] if key in TITLED else None)


def test_clean_article_untouched(seed_run):
    _, docs, removed = seed_run
    path = next(p for p in _seed_files() if p.name.startswith("004"))
    raw = path.read_text(encoding="utf-8")
    doc = docs[path.stem]
    assert doc["text"] == "\n\n".join(line for line in raw.split("\n") if line.strip())
    assert doc["encoding_fixes"] == []
    assert not [r for r in removed if r["doc_id"] == path.stem]


def test_nbsp_and_mojibake_fixes_recorded(seed_run):
    _, docs, _ = seed_run
    d002 = next(d for k, d in docs.items() if k.startswith("002"))
    assert "normalize_spaces" in d002["encoding_fixes"]
    assert "\u00a0" not in d002["text"]
