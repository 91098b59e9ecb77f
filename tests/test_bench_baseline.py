"""bench/baseline_datatrove.py: datatrove's equivalent pipeline runs end to end on a tiny corpus."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_PUNCT_LINE = "Read more stories from the {city} desk"

_PEOPLE = ["Maria Lopez", "Tom Becker", "Aisha Khan", "Li Wei", "Olga Petrova", "James Carter", "Nina Rossi",
           "Samuel Okafor", "Hannah Berg", "Diego Alvarez", "Priya Nair", "Lukas Novak"]
_GROUPS = ["the city council", "the transport agency", "the school board", "local farmers", "the hospital",
           "the harbour authority", "the water utility", "the chamber of commerce", "the fire service",
           "the housing office", "the parks department", "the library trust"]
_VERBS = ["approved", "delayed", "questioned", "announced", "rejected", "funded", "reviewed", "expanded",
          "postponed", "defended", "criticised", "extended"]
_THINGS = ["a new bridge", "the bus timetable", "a flood barrier", "the winter budget", "a solar farm",
           "the night market", "a cycling lane", "the museum roof", "a youth centre", "the ferry route",
           "a recycling plan", "the stadium lease"]
_CITIES = ["Avonford", "Brinmoor", "Castlereach", "Dunwick", "Elmsford", "Farrowgate", "Glenhaven",
           "Harlow Bay", "Ivybridge", "Juniper Falls"]
_WHEN = ["on Monday", "on Tuesday", "late on Wednesday", "this week", "after a long debate",
         "during a packed meeting", "earlier this month", "on Friday morning"]


def _article(rng: random.Random, n: int) -> str:
    city = rng.choice(_CITIES)
    lines = [f"{rng.choice(_GROUPS).capitalize()} in {city} {rng.choice(_VERBS)} {rng.choice(_THINGS)} "
             f"{rng.choice(_WHEN)}, officials said in report {n}."]
    for _ in range(rng.randint(5, 7)):
        lines.append(f"{rng.choice(_PEOPLE)} said {rng.choice(_GROUPS)} {rng.choice(_VERBS)} "
                     f"{rng.choice(_THINGS)} {rng.choice(_WHEN)} after {rng.randint(2, 90)} residents "
                     f"wrote {rng.randint(3, 400)} letters about {rng.choice(_THINGS)}.")
    lines.insert(rng.randint(1, len(lines) - 1), NO_PUNCT_LINE.format(city=city))
    return "\n".join(lines)


def _write_corpus(folder: Path) -> tuple[int, int]:
    """Three JSONL files of 30 documents; 4 of the 90 are exact copies of another. Returns (docs, unique)."""
    rng = random.Random(7)
    folder.mkdir()
    docs = [{"id": f"doc-{i}", "url": f"https://news.example/{i}", "text": _article(rng, i)} for i in range(86)]
    copies = [dict(docs[i], id=f"copy-{i}", url=f"https://mirror.example/{i}") for i in (0, 3, 40, 59)]
    all_docs = docs + copies
    rng.shuffle(all_docs)
    for part in range(3):
        with open(folder / f"part-{part}.jsonl", "w", encoding="utf-8") as f:
            for doc in all_docs[part * 30:(part + 1) * 30]:
                f.write(json.dumps(doc) + "\n")
    return len(all_docs), len(docs)


def _load_bench():
    spec = importlib.util.spec_from_file_location("baseline_datatrove", ROOT / "bench" / "baseline_datatrove.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_datatrove_is_a_clear_error(tmp_path, monkeypatch):
    bench = _load_bench()
    monkeypatch.setattr(bench, "datatrove_installed", lambda: False)
    with pytest.raises(RuntimeError, match=r"datatrove is not installed: pip install -e '\.\[bench\]'"):
        bench.run_datatrove(tmp_path, tmp_path / "work")


def test_datatrove_baseline_on_a_tiny_corpus(tmp_path):
    pytest.importorskip("datatrove", reason="datatrove is not installed (pip install -e '.[bench]')")
    bench = _load_bench()
    docs, unique = _write_corpus(tmp_path / "in")

    r = bench.run_datatrove(tmp_path / "in", tmp_path / "work", workers=1)

    assert r["input_files"] == r["tasks"] == 3
    assert r["docs_in"] == docs == 90
    assert r["docs_after_c4"] == docs  # every document has enough sentences: C4 removes lines, not documents
    assert r["docs_out"] < r["docs_in"]
    assert r["docs_out"] == unique  # the 4 exact copies go, nothing else
    assert r["input_bytes"] == sum(p.stat().st_size for p in (tmp_path / "in").iterdir())
    assert 0 < r["text_bytes"] < r["input_bytes"]
    assert set(r["stage_seconds"]) == set(bench.STAGES)
    assert all(s > 0 for s in r["stage_seconds"].values())
    assert r["total_seconds"] == pytest.approx(sum(r["stage_seconds"].values()), abs=0.01)
    assert r["mb_per_s"] > 0 and r["docs_per_s"] > 0
    assert r["peak_rss_mb"] > 0
    assert (r["n_grams"], r["num_buckets"], r["hashes_per_bucket"]) == (5, 14, 8)
    assert r["datatrove_version"] == "0.10.1"

    table = pq.read_table(r["output_files"])
    assert table.num_rows == r["docs_out"]
    texts = table.column("text").to_pylist()
    # the line without terminal punctuation is cut out of every document; the sentences stay
    assert not any("Read more stories" in t for t in texts)
    assert all(len(t.splitlines()) >= 6 for t in texts)
    ids = set(table.column("id").to_pylist())
    assert len(ids) == unique
    assert Path(r["log_file"]).stat().st_size > 0
