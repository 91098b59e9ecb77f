"""The clean-corpus flow end to end: output contract, counts that reconcile, determinism, failure."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from conftest import EVALDATA, SAMPLES, SEEDS, assert_reconciles, read_dataset, run_flow
from scrapewash import schemas
from scrapewash.config import Config, EncodingConfig
from scrapewash.tasks.encoding import repair, split_paragraphs

VOLATILE = ("run_id", "processed_at")


def corpus_inputs() -> list[Path]:
    """Bundled samples, plus the seeds and a slice of the evaluation pages when present."""
    inputs = [SAMPLES]
    if SEEDS.exists():
        inputs.append(SEEDS)
    return inputs


@pytest.fixture(scope="module")
def evalslice(tmp_path_factory) -> Path | None:
    src = EVALDATA / "wcxb-dev" / "recall.jsonl.gz"
    if not src.exists():
        return None
    out = tmp_path_factory.mktemp("eval") / "wcxb-slice.jsonl"
    with gzip.open(src, "rt", encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as w:
        for i, line in enumerate(fh):
            if i >= 300:
                break
            w.write(line)
    return out


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    counts = run_flow([SAMPLES], out)
    return out, counts


def independent_input_count(folder: Path) -> dict[str, int]:
    """Records per input file, counted without scrapewash's readers."""
    n = {}
    for f in sorted(folder.rglob("*")):
        if f.suffix == ".txt":
            n[str(f)] = 1
        elif f.name.endswith(".jsonl"):
            n[str(f)] = sum(1 for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    return n


def test_output_layout_and_schemas(sample_run):
    out, counts = sample_run
    run_id = counts["run_id"]
    for name in ("documents", "removed", "quarantine"):
        files = sorted((out / name / run_id).glob("*.parquet"))
        assert files, name
        for f in files:
            pf = pq.ParquetFile(f)
            meta = pf.schema_arrow.metadata
            assert meta[schemas.SCHEMA_METADATA_KEY] == name.encode()
            assert meta[schemas.SCHEMA_VERSION_KEY] == str(schemas.VERSIONS[name]).encode()
            assert pf.schema_arrow.remove_metadata().equals(schemas.SCHEMAS[name])
            assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
    manifest = json.loads((out / "_runs" / f"{run_id}.json").read_text())
    assert manifest["status"] == "committed"
    assert manifest["schema_versions"] == schemas.VERSIONS
    assert manifest["counts"]["documents_out"] == counts["documents_out"]
    assert set(manifest["rule_packs"]) >= {"donation", "comments", "credits"}
    assert manifest["line_model"]["name"] == "content-v6" and 0 < manifest["line_model"]["threshold"] < 1
    assert not (out / "_staging").exists()


def test_reads_back_with_pyarrow_dataset_and_duckdb(sample_run):
    out, counts = sample_run
    docs = ds.dataset(str(out / "documents"), format="parquet").to_table()
    assert docs.num_rows == counts["documents_out"]
    assert set(docs.column_names) >= {"doc_id", "text", "url", "source", "n_paragraphs", "n_removed_paragraphs",
                                      "encoding_fixes", "duplicates", "content_hash", "run_id", "processed_at",
                                      "metadata"}
    rows = duckdb.sql(f"SELECT reason, rule, count(*) AS n FROM '{out}/removed/**/*.parquet' "
                      "GROUP BY ALL ORDER BY ALL").fetchall()
    by_reason = {}
    for reason, _rule, n in rows:
        by_reason[reason] = by_reason.get(reason, 0) + n
    assert by_reason["boilerplate"] > 50
    assert all(rule for reason, rule, _ in rows if reason == "boilerplate")
    assert by_reason["near_duplicate_document"] == counts["documents_removed"]["near_duplicate_document"]
    q = duckdb.sql(f"SELECT count(*) FROM '{out}/quarantine/**/*.parquet'").fetchone()[0]
    assert q == counts["quarantined"] > 0
    meta = duckdb.sql(f"SELECT json_extract_string(metadata, '$.lang') AS lang, count(*) FROM "
                      f"'{out}/documents/**/*.parquet' GROUP BY ALL").fetchall()
    assert {lang for lang, _ in meta} >= {"en", "de"}


def test_documents_reconcile(sample_run):
    out, counts = sample_run
    docs = read_dataset(out, "documents").to_pylist()
    removed = read_dataset(out, "removed").to_pylist()
    quarantine = read_dataset(out, "quarantine").to_pylist()
    expected = independent_input_count(SAMPLES)
    # the truncated gzip: two readable records plus the quarantine row for the lost rest
    expected[str(SAMPLES / "bad" / "truncated.jsonl.gz")] = 3
    got: dict[str, int] = {}
    for r in docs + [r for r in removed if r["part"] == "document"] + quarantine:
        got[r["source"]] = got.get(r["source"], 0) + 1
    assert got == expected
    assert counts["records_in"] == sum(expected.values())
    assert counts["records_in"] == counts["documents_out"] + sum(counts["documents_removed"].values()) + \
        counts["quarantined"]


def test_paragraphs_reconcile(sample_run):
    out, counts = sample_run
    docs = read_dataset(out, "documents").to_pylist()
    removed = read_dataset(out, "removed").to_pylist()
    for d in docs:
        assert len(d["text"].split("\n\n")) == d["n_paragraphs"]
        assert d["n_removed_paragraphs"] == sum(
            1 for r in removed if r["doc_id"] == d["doc_id"] and r["part"] == "paragraph")
    # paragraphs of every readable input document, counted from the raw files
    total = sum(len(split_paragraphs(repair(t, EncodingConfig())[0])) for t in raw_texts(SAMPLES))
    kept = sum(d["n_paragraphs"] for d in docs)
    gone = sum(r["n_paragraphs"] for r in removed)
    assert kept + gone == total == counts["paragraphs_in"]
    assert counts["paragraphs_out"] == kept
    assert sum(counts["paragraphs_removed"].values()) == gone


def raw_texts(folder: Path) -> list[str]:
    """The text of every readable record under ``folder``, read without scrapewash's readers."""
    texts = []
    for f in sorted(folder.rglob("*")):
        if f.suffix == ".txt":
            b = f.read_bytes()
            try:
                texts.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(b.decode("cp1252"))
        elif f.name.endswith((".jsonl", ".jsonl.gz")):
            lines = []
            opener = gzip.open if f.name.endswith(".gz") else open
            with opener(f, "rt", encoding="utf-8") as fh:
                try:
                    for line in fh:
                        lines.append(line)
                except EOFError:
                    lines = lines[:-1] if lines and not lines[-1].endswith("\n") else lines
            for line in lines:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("text"), str):
                    texts.append(rec["text"])
    return texts


def _rows(out: Path, name: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in read_dataset(out, name).to_pylist()]


def test_deterministic_whatever_shards_and_threads(tmp_path, evalslice):
    inputs = corpus_inputs() + ([evalslice] if evalslice else [])
    a = run_flow(inputs, tmp_path / "a", workers=1)
    b = run_flow(inputs, tmp_path / "b", workers=4,
                 read={"docs_per_shard": 2, "bytes_per_shard": 4096})
    assert b["shards"] > a["shards"]
    assert_reconciles(tmp_path / "a", a)
    assert_reconciles(tmp_path / "b", b)
    for name in ("documents", "removed", "quarantine"):
        ra, rb = _rows(tmp_path / "a", name), _rows(tmp_path / "b", name)
        assert ra == rb, name
    assert a["documents_out"] == b["documents_out"] > 0


def test_failed_shard_fails_the_run_and_commits_nothing(tmp_path, monkeypatch):
    from scrapewash.flows import clean_corpus as cc
    from scrapewash.tasks import prepare

    real = prepare.prepare_shard

    def flaky(shard, *args, **kwargs):
        if "articles.jsonl" in shard.label:
            raise OSError("disk went away")
        return real(shard, *args, **kwargs)

    monkeypatch.setattr(prepare, "prepare_shard", flaky)
    with pytest.raises(cc.ShardFailed, match="disk went away"):
        run_flow([SAMPLES], tmp_path)
    for name in ("documents", "removed", "quarantine"):
        assert not (tmp_path / name).exists() or not any((tmp_path / name).iterdir())
    assert not list((tmp_path / "_runs").glob("*.json")) if (tmp_path / "_runs").exists() else True
    # the next run cleans up the abandoned staging folder and commits normally
    monkeypatch.setattr(prepare, "prepare_shard", real)
    counts = run_flow([SAMPLES], tmp_path)
    assert counts["documents_out"] > 0
    assert not (tmp_path / "_staging").exists()
    assert len(list((tmp_path / "_runs").glob("*.json"))) == 1


def test_interrupted_commit_is_rolled_back(tmp_path):
    from scrapewash.tasks import write

    counts = run_flow([SAMPLES], tmp_path)
    good = counts["run_id"]
    # a crash in the middle of a commit: one dataset moved, the marker still there
    ghost = "20990101T000000Z-deadbeef"
    (tmp_path / "documents" / ghost).mkdir(parents=True)
    (tmp_path / "documents" / ghost / "part-00000.parquet").write_bytes(b"partial")
    (tmp_path / "_runs" / f"{ghost}.committing").write_text(ghost)
    actions = write.recover(tmp_path)
    assert any(ghost in a for a in actions)
    assert not (tmp_path / "documents" / ghost).exists()
    assert (tmp_path / "documents" / good).exists()
    assert ds.dataset(str(tmp_path / "documents"), format="parquet").count_rows() == counts["documents_out"]


def test_config_file_and_validation(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('workers = 1\n[dedup]\nenabled = false\n[boilerplate]\ndisable_rules = []\n')
    c = Config.load(cfg)
    assert c.workers == 1 and c.dedup.enabled is False
    bad = tmp_path / "bad.toml"
    bad.write_text("[dedup]\nbands = 7\n")
    with pytest.raises(ValueError, match="bands x rows"):
        Config.load(bad)
    counts = run_flow([SAMPLES], tmp_path / "o", config=c)
    assert "near_duplicate_document" not in counts["documents_removed"]
