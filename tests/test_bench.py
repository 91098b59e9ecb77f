"""bench/generate.py and bench/run.py: the corpus is deterministic and dirty in the intended ways; the
runner's stage timings compare outputs with their baselines; the end-to-end run reconciles."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import ftfy
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def test_generated_corpus_is_deterministic_and_dirty(tmp_path):
    gen = _load("generate")
    a = gen.generate(tmp_path / "a", 0.4, shard_mb=0.15, seed=3)
    b = gen.generate(tmp_path / "b", 0.4, shard_mb=0.15, seed=3)
    assert a["files"] == b["files"] and len(a["files"]) >= 3
    for f in a["files"]:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert a["bytes"] >= 0.4e6 and a["copies"] > 0
    texts = [json.loads(line)["text"] for f in a["files"] for line in (tmp_path / "a" / f).open(encoding="utf-8")]
    assert len(texts) == a["documents"]
    assert sum(ftfy.fix_text(t) != t for t in texts) > 0  # some mojibake
    assert sum("\u00a0" in t for t in texts) > 0
    assert all("Privacy" in t or "Terms" in t for t in texts)  # site footers
    c = gen.generate(tmp_path / "c", 0.4, shard_mb=0.15, seed=4)
    assert (tmp_path / "c" / c["files"][0]).read_bytes() != (tmp_path / "a" / a["files"][0]).read_bytes()


def test_stage_timings_compare_with_their_baselines(tmp_path):
    gen = _load("generate")
    run = _load("run")
    gen.generate(tmp_path / "c", 0.3, seed=1)
    r = run.stage_micro(tmp_path / "c", 0.3)
    assert r["encoding: ftfy fast path"]["identical_to_ftfy"] is True
    clean, repaired = (r["encoding: ftfy fast path, pages with nothing to repair"],
                       r["encoding: ftfy fast path, pages ftfy repairs"])  # the generator's mojibake pages
    assert clean["documents"] + repaired["documents"] == r["documents"] and repaired["documents"] > 0
    assert r["signatures: MinHash (vectorised)"]["identical_to_datasketch"] is True
    for k in ("rules", "in-page repeats", "line model", "all per-document stages",
              "cleaning: a whole document as prepare cleans it (Cleaner.clean)"):
        assert r[k]["mb_per_s"] > 0 and r[k]["docs_per_s"] > 0


@pytest.mark.slow
def test_end_to_end_run_reports_stages_memory_and_reconciles(tmp_path):
    gen = _load("generate")
    run = _load("run")
    info = gen.generate(tmp_path / "c", 0.3, seed=2)
    e = run.end_to_end(tmp_path / "c", info, tmp_path, 1)
    assert e["documents_in"] == info["documents"]
    assert e["documents_out"] + sum(e["documents_removed"].values()) == info["documents"]
    assert e["documents_removed"].get("near_duplicate_document", 0) > 0  # syndicated copies found
    assert {"prepare", "sign", "duplicates", "finalize", "commit"} <= set(e["stage_seconds"])
    assert e["peak_rss_tree_mb"] > 50 and e["flow_seconds"] > 0
    # CPU by process: the command (which runs the shard tasks with one worker) and Prefect's server
    cpu = e["cpu_seconds_by_process"]
    assert cpu["command"] > 1 and cpu["api server"] > 0.5 and "workers" not in cpu


def test_repeated_runs_report_the_median_and_the_highest_memory():
    runs = [{"flow_seconds": s, "peak_rss_tree_mb": m, "peak_pss_tree_mb": None, "peak_rss_largest_process_mb": m}
            for s, m in ((30.0, 900.0), (20.0, 1000.0), (25.0, 800.0))]
    med = _load("run")._median_run(runs)
    assert med["flow_seconds"] == 25.0 and med["runs"] == 3
    assert med["flow_seconds_all"] == [30.0, 20.0, 25.0]
    assert med["peak_rss_tree_mb"] == 1000.0 and med["peak_pss_tree_mb"] is None


def test_datatrove_runs_pair_with_the_round_before_them():
    """--baseline-repeat: each datatrove run is compared with the one-worker run of its own round;
    the reported datatrove run is the median one, with every time and the highest memory peak."""
    run = _load("run")
    ours = [{"flow_seconds": s} for s in (30.0, 40.0, 33.0)]
    theirs = [{"total_seconds": t, "peak_rss_mb": m} for t, m in ((360.0, 500.0), (440.0, 520.0))]
    assert run.paired_ratios(ours, theirs) == [12.0, 11.0]  # the third round had no datatrove run
    med = run._median_baseline(theirs + [{"total_seconds": 400.0, "peak_rss_mb": 510.0}])
    assert med["total_seconds"] == 400.0 and med["runs"] == 3
    assert med["total_seconds_all"] == [360.0, 440.0, 400.0] and med["peak_rss_mb"] == 520.0


def test_reference_inputs_cover_every_aeb_page(tmp_path):
    """bench/quality.py --references: each extractor's output (plain or wrapped in "output") becomes one
    eval input row per scrapinghub-aeb page, with the gold's id and URL."""
    from conftest import EVALDATA, need_shared
    from scrapewash.evaluate import read_jsonl

    aeb = need_shared(EVALDATA / "scrapinghub-aeb" / "reference-outputs")
    quality = _load("quality")
    gold = {d["id"]: d.get("url") for d in read_jsonl(aeb.parent / "gold.jsonl.gz")}
    for system in quality.REFERENCES:
        rows = list(read_jsonl(quality.reference_input(system, tmp_path)))
        assert len(rows) == len(gold) == 181, system
        assert all(r["id"] in gold and r["url"] == gold[r["id"]] and isinstance(r["text"], str) for r in rows)
        assert sum(bool(r["text"].strip()) for r in rows) > 150, system  # not an empty mapping read wrongly


def test_real_pages_are_timed_where_they_are_and_left_out_where_not(tmp_path):
    import gzip

    run = _load("run")
    (tmp_path / "site").mkdir()
    pages = [{"id": str(i), "url": f"https://example.org/{i}",
              "text": f"Home\nNews\nSport\nA council vote on the {i} bridges was close, the clerk said on Monday.\n"
                      "Share on Facebook\n© 2024 Example Media. All rights reserved."} for i in range(30)]
    with gzip.open(tmp_path / "site" / "dump.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(p) + "\n" for p in pages)
    r = run.real_pages(tmp_path, ("site/dump", "site/recall"))
    assert list(r) == ["site/dump"]  # the absent set is left out
    assert r["site/dump"]["documents"] == 30 and r["site/dump"]["lines"] == 180
    assert r["site/dump"]["mb_per_s"] > 0
    table = run._table({"sizes": {}, "real_pages": r})
    assert "Cleaning real pages" in table and "| site/dump | 30 |" in table


def test_line_model_folds_hold_a_pages_variants_out_together():
    """bench/train_content.py's and bench/heldout.py's folds are by page id: a page's ``recall`` and
    ``dump`` texts (two documents with one id and one gold) are held out together, and every fold
    gets pages."""
    import numpy as np

    tc = _load("train_content")
    # Documents 0-8 as the cache numbers them: two variants of pages p0-p2, then three other pages.
    ids = np.array(["p1", "p0", "p2", "p1", "p0", "p2", "q0", "q1", "q2"], dtype=object)
    doc = np.repeat(np.arange(len(ids)), 3)  # three lines a document
    fold = tc.page_folds({"ids": ids, "doc": doc}, 3)
    assert fold.shape == doc.shape
    by_id: dict[str, set[int]] = {}
    for d, f in zip(doc, fold, strict=True):
        by_id.setdefault(str(ids[d]), set()).add(int(f))
    assert all(len(v) == 1 for v in by_id.values())  # a page's lines, both variants, in one fold
    assert sorted(next(iter(v)) for v in by_id.values()) == [0, 0, 1, 1, 2, 2]  # six pages over three folds
    assert tc.page_fold_of(ids, 3) == {str(ids[d]): int(f) for d, f in zip(doc, fold, strict=True)}


def test_out_of_fold_scores_come_from_models_that_did_not_see_them():
    """train_content.out_of_fold: each row of ``within`` is scored by a model trained on the other
    folds of ``within`` only, and rows outside it score 0."""
    import numpy as np

    tc = _load("train_content")
    folds = np.array([0, 1, 2, 0, 1, 2, 0, 1, 3, 3])
    within = folds != 3
    fits = []

    class Seen:  # "predicts" the folds it was trained on, as bits
        def __init__(self, m):
            self.bits = sum(1 << int(f) for f in np.unique(folds[m]))
            fits.append(m.copy())

        def predict(self, x):
            return np.full(len(x), self.bits, dtype=float)

    x = np.zeros((len(folds), 2))
    p = tc.out_of_fold(Seen, x, within, folds)
    assert len(fits) == 3  # one model a fold of ``within``
    assert all(not (m & ~within).any() for m in fits)  # never trained on rows outside it
    for f, bits in zip(folds, p.astype(int), strict=True):
        assert bits == (0 if f == 3 else 0b111 & ~(1 << int(f)))


def test_held_out_pages_come_from_their_own_folds_run():
    """bench/heldout.py: a page's text comes from the run whose line model did not see it; a page
    that run did not keep stays absent though another run kept it."""
    heldout = _load("heldout")
    fold_of = {"a": 0, "b": 1, "c": 1}
    runs = [{"a": "a by model 0", "b": "b by model 0", "c": "c by model 0"},
            {"a": "a by model 1", "b": "b by model 1"}]  # model 1 emptied page c
    assert heldout.from_own_fold(runs, fold_of) == {"a": "a by model 0", "b": "b by model 1"}
