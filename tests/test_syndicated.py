"""Syndicated copies (same story, other site's boilerplate, light edits) are found after cleaning."""

from __future__ import annotations

import pytest

from conftest import EVALDATA, need_shared, run_flow
from scrapewash.evaluate import read_jsonl
from scrapewash.syndicate import (
    adjusted_rand_index,
    build,
    duplicate_links,
    score_clusters,
    wrappers_from,
    write_jsonl,
)


def test_adjusted_rand_index_and_pair_scores():
    assert adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7]) == 1.0
    assert adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) < 0
    truth = {"a": 0, "b": 0, "c": 1, "d": 2}
    s = score_clusters(truth, {"b": "a"})
    assert s["pair_precision"] == 1.0 and s["pair_recall"] == 1.0 and s["adjusted_rand_index"] == 1.0
    s = score_clusters(truth, {"b": "a", "c": "a"})
    assert s["pair_precision"] == pytest.approx(1 / 3, abs=1e-4) and s["pair_recall"] == 1.0


def test_build_is_deterministic_and_edits_copies():
    bodies = [{"id": f"s{i}", "gold": "\n".join(f"Paragraph {j} of story {i} with several words in it."
                                               for j in range(6))} for i in range(20)]
    wrappers = [{"url": f"https://site{i}.example/p", "lines": [f"Menu {i}", "Home", "Sign in", "Share", "Footer"]}
                for i in range(5)]
    a, truth = build(bodies, wrappers, seed=3)
    b, _ = build(bodies, wrappers, seed=3)
    assert a == b
    copies = [d for d in a if not d["id"].endswith("#copy0")]
    assert copies and all(truth[d["id"]] == truth[d["id"].split("#")[0] + "#copy0"] for d in copies)
    assert any("(" in d["text"] and "—" in d["text"] for d in copies)  # a wire dateline


@pytest.mark.slow
def test_copies_found_after_cleaning(tmp_path):
    folder = need_shared(EVALDATA / "scrapinghub-aeb")
    gold_recs = read_jsonl(folder / "gold.jsonl.gz")
    gold = {str(g["id"]): g["gold"] for g in gold_recs}
    wrappers = wrappers_from(read_jsonl(folder / "dump.jsonl.gz"), gold, limit=100)
    docs, truth = build(gold_recs, wrappers, seed=11)
    src = tmp_path / "syndicated.jsonl"
    write_jsonl(docs, src)
    counts = run_flow([src], tmp_path / "out")
    dup = duplicate_links(tmp_path / "out", counts["run_id"])
    s = score_clusters(truth, dup)
    print(s)
    assert s["true_pairs"] > 100
    assert s["adjusted_rand_index"] >= 0.95
    assert s["pair_precision"] >= 0.98
    assert counts["documents_removed"]["near_duplicate_document"] == len(dup)
