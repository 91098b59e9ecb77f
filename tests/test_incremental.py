"""Deduplication across runs through the persistent index (``OUT/_index/``): batch A, then batch B."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES, assert_reconciles, read_dataset, run_flow
from scrapewash.tasks import index


def _articles() -> list[dict]:
    return [json.loads(line) for line in (SAMPLES / "articles.jsonl").read_text().splitlines() if line.strip()]


def _syndicated_copy(rec: dict, n: int, rng: random.Random) -> dict:
    """The same story on another site: a new headline, a wire dateline, the last paragraph dropped,
    a few typos."""
    paras = [p for p in rec["text"].split("\n\n") if p.strip()]
    body = paras[1:-1] if len(paras) > 3 else paras
    words = "\n\n".join(body).split(" ")
    for _ in range(3):
        i = rng.randrange(len(words))
        if len(words[i]) > 3:
            words[i] = words[i][:-2] + words[i][-1] + words[i][-2]
    text = f"Breaking: {paras[0]} (wire copy)\n\nBy Wire Staff (Reuters-like Service)\n\n" + " ".join(words)
    return {"id": f"copy-{n}-{rec['id']}", "url": f"https://syndicator.example/{n}", "text": text}


def _new_story(i: int) -> dict:
    rng = random.Random(1000 + i)
    topics = ["harbour", "library", "tram line", "orchard", "observatory", "bakery", "ferry", "stadium"]
    t = topics[i % len(topics)]
    paras = [f"New {t} plan number {i} unveiled"]
    for j in range(6):
        words = [rng.choice(["council", "residents", "the", "said", "on", "budget", "plan", "a", "new", "year",
                             "would", "could", "local", "business", "owners", "support", "oppose", "vote",
                             "meeting", "Tuesday", "million", "pounds", "project", "work", "begin", "spring"])
                 for _ in range(40)]
        paras.append(f"Paragraph {j} about the {t}: " + " ".join(words) + ".")
    return {"id": f"new-{i}", "url": f"https://fresh.example/{i}", "text": "\n\n".join(paras)}


def _write(path: Path, recs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


def _digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_batch_b_copies_of_batch_a_point_into_a(tmp_path):
    rng = random.Random(7)
    out = tmp_path / "out"
    a_recs = _articles()
    run_flow([_write(tmp_path / "in" / "a.jsonl", a_recs)], out, run_id="batch-a")
    kept_a = set(read_dataset(out, "documents", "batch-a")["doc_id"].to_pylist())
    assert len(kept_a) >= 15
    before = {ds: _digest_tree(out / ds / "batch-a") for ds in ("documents", "removed", "_index/documents")}

    originals = [r for r in a_recs if r["id"] in kept_a and len(r["text"].split()) > 200][:6]
    copies = [_syndicated_copy(r, n, rng) for n, r in enumerate(originals)]
    fresh = [_new_story(i) for i in range(5)]
    # A new story that quotes a long paragraph of one of A's kept articles word for word.
    quoted = next(p for p in originals[0]["text"].split("\n\n") if len(p.split()) > 30)
    fresh.append({"id": "new-quote", "url": "https://fresh.example/quote",
                  "text": _new_story(99)["text"] + "\n\n" + quoted})
    b = run_flow([_write(tmp_path / "in" / "b.jsonl", copies + fresh)], out, run_id="batch-b")
    assert_reconciles(out, b)

    removed = read_dataset(out, "removed", "batch-b").to_pylist()
    whole = {r["doc_id"]: r for r in removed if r["part"] == "document"}
    for c, orig in zip(copies, originals, strict=True):
        row = whole.get(c["id"])
        assert row is not None, f"{c['id']} was not found as a copy of {orig['id']}"
        assert row["reason"] == "near_duplicate_document"
        assert row["duplicate_of"] == orig["id"], row
        assert 0.7 <= row["similarity"] <= 1.0
        assert "kept by an earlier run" in row["detail"]
    kept_b = set(read_dataset(out, "documents", "batch-b")["doc_id"].to_pylist())
    assert {r["id"] for r in fresh} <= kept_b, "new stories are kept"
    # The quoted paragraph goes as a duplicate of A's paragraph.
    para = [r for r in removed if r["doc_id"] == "new-quote" and r["reason"] == "duplicate_paragraph"]
    assert len(para) == 1 and para[0]["duplicate_of"] == originals[0]["id"] and para[0]["text"] == quoted
    assert para[0]["duplicate_of_paragraph"] is not None
    # A is untouched, byte for byte.
    after = {ds: _digest_tree(out / ds / "batch-a") for ds in ("documents", "removed", "_index/documents")}
    assert after == before
    assert b["dedup"]["duplicates_of_earlier_runs"] == len(copies)
    assert b["dedup"]["paragraphs"]["duplicates_of_earlier_runs"] >= 1
    from scrapewash.flows.clean_corpus import summary_rows

    rows = dict(summary_rows(b))
    assert rows["near-duplicates of earlier runs' documents"] == len(copies)
    assert rows["paragraphs repeating earlier runs' paragraphs"] >= 1

    # Switched off, the same batch B keeps its copies.
    out2 = tmp_path / "out2"
    run_flow([tmp_path / "in" / "a.jsonl"], out2, run_id="batch-a")
    off = run_flow([tmp_path / "in" / "b.jsonl"], out2, run_id="batch-b", dedup={"across_runs": False})
    assert {c["id"] for c in copies} <= set(read_dataset(out2, "documents", "batch-b")["doc_id"].to_pylist())
    assert off["dedup"]["duplicates_of_earlier_runs"] == 0


def test_index_holds_what_was_kept_and_sizes_are_reported(tmp_path):
    out = tmp_path / "out"
    counts = run_flow([SAMPLES / "articles.jsonl"], out, run_id="r1")
    docs = read_dataset(out, "documents", "r1")
    idx_docs = pq.read_table(out / "_index" / "documents" / "r1")
    assert sorted(idx_docs["doc_id"].to_pylist()) == sorted(docs["doc_id"].to_pylist())
    md = json.loads(pq.read_schema(next((out / "_index" / "documents" / "r1").glob("*.parquet"))).metadata[
        b"scrapewash.index_params"])
    assert md["num_perm"] == 128 and md["shingle_words"] == 3
    idx_paras = pq.read_table(out / "_index" / "paragraphs" / "r1")
    assert set(idx_paras["doc_id"].to_pylist()) <= set(docs["doc_id"].to_pylist())
    assert idx_paras.num_rows > counts["documents_out"]
    report = index.size_report(out)
    assert report["documents"]["rows"] == docs.num_rows
    assert report["documents"]["bytes"] > 0


def test_an_index_built_with_other_minhash_settings_is_refused(tmp_path):
    out = tmp_path / "out"
    run_flow([SAMPLES / "articles.jsonl"], out, run_id="r1")
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "x", "text": "A story of enough words to be signed. " * 10}) + "\n")
    with pytest.raises(Exception, match="MinHash settings"):
        run_flow([other], out, run_id="r2", dedup={"num_perm": 64, "bands": 16, "rows": 4})


def test_site_templates_add_up_across_runs(tmp_path):
    """A site's footer line seen once per run is a template by the second run. (The line model is off:
    whether it takes a lone footer line on a one-page run is its call, not what this test is about.)"""
    plain = {"content": {"enabled": False}}
    def page(i: int) -> dict:
        body = "\n\n".join(f"Story {i} paragraph {j}: " + " ".join(f"w{i}x{j}x{k}" for k in range(30)) + "."
                           for j in range(4))
        return {"id": f"p{i}", "url": f"https://onepage.example/{i}",
                "text": body + "\n\nOnepage Gazette is published by Onepage Media Group"}
    out = tmp_path / "out"
    run_flow([_write(tmp_path / "1.jsonl", [page(1)])], out, run_id="r1", **plain)
    assert "Onepage Gazette" in read_dataset(out, "documents", "r1")["text"][0].as_py()
    r2 = run_flow([_write(tmp_path / "2.jsonl", [page(2)])], out, run_id="r2", **plain)
    removed = read_dataset(out, "removed", "r2").to_pylist()
    assert [r["reason"] for r in removed if "Onepage Gazette" in r["text"]] == ["site_template"]
    assert r2["dedup"]["templates"]["pages_from_earlier_runs"] > 0
    # The earlier run's page keeps its line: committed data is never rewritten.
    assert "Onepage Gazette" in read_dataset(out, "documents", "r1")["text"][0].as_py()
