"""Readers: every input format, streaming, byte-range shards, and bad input turned into quarantine rows."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from scrapewash.records import Quarantined, RawDocument
from scrapewash.tasks.read import InputError, decode_bytes, plan_inputs, read_shard


def read_all(*inputs, docs_per_shard=100, bytes_per_shard=1 << 26, max_chars=5_000_000):
    plan = plan_inputs([str(i) for i in inputs], docs_per_shard, bytes_per_shard)
    out = list(plan.quarantined)
    for s in plan.shards:
        out.extend(read_shard(s, max_chars=max_chars))
    return plan, out


def _jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


RECORDS = [{"id": f"d{i}", "text": f"Body {i}\n\nSecond paragraph {i}.", "url": f"https://x.test/{i}",
            "published": f"2026-01-0{i % 9 + 1}"} for i in range(50)]


def test_txt_folder_ids_and_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.txt").write_text("Two")
    (tmp_path / "a.txt").write_text("One")
    (tmp_path / "README.md").write_text("not an input")
    (tmp_path / ".hidden.txt").write_text("hidden")
    plan, recs = read_all(tmp_path)
    assert [r.doc_id for r in recs] == ["a", "b/two"]
    assert [r.text for r in recs] == ["One", "Two"]
    assert recs[0].order < recs[1].order
    assert {p.split("/")[-1] for p, _ in plan.skipped} == {"README.md", ".hidden.txt"}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_jsonl_variants(tmp_path, suffix):
    data = _jsonl(RECORDS)
    if suffix.endswith(".gz"):
        data = gzip.compress(data)
    elif suffix.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    f = tmp_path / f"in{suffix}"
    f.write_bytes(data)
    _, recs = read_all(f)
    assert [r.doc_id for r in recs] == [r["id"] for r in RECORDS]
    assert recs[3].url == "https://x.test/3"
    assert json.loads(recs[3].metadata) == {"published": RECORDS[3]["published"]}
    assert recs[3].input_position.endswith(":4")


def test_plain_jsonl_byte_range_shards_match_whole_file(tmp_path):
    f = tmp_path / "big.jsonl"
    f.write_bytes(_jsonl(RECORDS))
    plan_small, small = read_all(f, bytes_per_shard=1024)
    _, whole = read_all(f)
    assert len(plan_small.shards) > 3
    assert [(r.doc_id, r.order, r.input_position) for r in small] == [
        (r.doc_id, r.order, r.input_position) for r in whole]


def test_a_few_big_jsonl_files_are_cut_into_even_shards(tmp_path):
    """Two 10 MB files (a run of few big files) are cut into even pieces of at least 4 MB, so that
    workers share the work; the records and their order are those of reading the files whole."""
    recs = [{"id": f"d{i}", "text": ("word " * (40 + i % 300)).strip()} for i in range(20_000)]
    half = len(recs) // 2
    for k, part in enumerate((recs[:half], recs[half:])):
        (tmp_path / f"part-{k}.jsonl").write_bytes(_jsonl(part))
    sizes = [p.stat().st_size for p in sorted(tmp_path.glob("*.jsonl"))]
    assert all(s > 8 << 20 for s in sizes)
    plan, cut = read_all(tmp_path)
    assert len(plan.shards) == sum(-(-s // (4 << 20)) for s in sizes) == 6
    pieces = [s.size_bytes for s in plan.shards]
    assert max(pieces) - min(pieces) < 0.05 * max(pieces) and min(pieces) >= 3 << 20
    _, whole = read_all(tmp_path, bytes_per_shard=1 << 40)  # nothing cut
    assert [(r.doc_id, r.order, r.input_position) for r in cut] == [
        (r.doc_id, r.order, r.input_position) for r in whole]
    assert len(cut) == len(recs)
    # the configured size still caps the pieces
    plan_small, _ = read_all(tmp_path, bytes_per_shard=2 << 20)
    assert len(plan_small.shards) >= 10


@pytest.mark.parametrize("codec", ["gz", "zst"])
def test_truncated_compressed_keeps_what_was_readable(tmp_path, codec):
    # zstd decodes whole blocks (up to 128 KiB), so the input spans several.
    records = [{"id": f"r{i}", "text": f"record {i} " + "word " * (i % 50)} for i in range(8000)]
    data = _jsonl(records)
    comp = gzip.compress(data) if codec == "gz" else zstandard.ZstdCompressor().compress(data)
    f = tmp_path / f"cut.jsonl.{codec}"
    f.write_bytes(comp[: len(comp) * 2 // 3])
    _, recs = read_all(f)
    docs = [r for r in recs if isinstance(r, RawDocument)]
    q = [r for r in recs if isinstance(r, Quarantined)]
    assert len(q) == 1 and q[0].error_type == "truncated_file"
    assert 0 < len(docs) < len(records)
    assert [d.doc_id for d in docs] == [r["id"] for r in records[: len(docs)]]
    assert f"after line {len(docs)}" in q[0].error


@pytest.mark.parametrize("codec", ["gz", "zst"])
def test_empty_compressed_file(tmp_path, codec):
    f = tmp_path / f"empty.jsonl.{codec}"
    f.write_bytes(b"")
    _, recs = read_all(f)
    assert recs == []


def test_bad_jsonl_lines_quarantined_rest_read(tmp_path):
    lines = [json.dumps({"id": "ok1", "text": "fine"}), "{not json", json.dumps({"id": "nt"}),
             json.dumps({"id": "num", "text": 5}), json.dumps([1, 2]), "", json.dumps({"text": "no id"})]
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join(lines) + "\n")
    _, recs = read_all(f)
    kinds = [(type(r).__name__, getattr(r, "error_type", None)) for r in recs]
    assert kinds == [("RawDocument", None), ("Quarantined", "malformed_json"), ("Quarantined", "missing_text"),
                     ("Quarantined", "bad_text_type"), ("Quarantined", "not_an_object"), ("RawDocument", None)]
    assert recs[1].position.endswith(":2") and recs[1].raw == "{not json"
    assert recs[-1].doc_id.endswith("mixed.jsonl:7")  # no id: file and line


def test_invalid_utf8_decoded_as_cp1252_and_recorded(tmp_path):
    f = tmp_path / "cp.txt"
    f.write_bytes("“Café” – naïve".encode("cp1252"))
    _, [rec] = read_all(f)
    assert rec.text == "“Café” – naïve"
    assert rec.decode_fixes == ("decoded_windows_1252",)
    assert decode_bytes(b"plain")[1] == ()
    assert decode_bytes(b"\xef\xbb\xbfbom")[0] == "bom"


def test_binary_and_oversized_files_quarantined(tmp_path):
    (tmp_path / "img.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "huge.txt").write_text("word " * 3000)
    (tmp_path / "empty.txt").write_text("")
    _, recs = read_all(tmp_path, max_chars=1000)
    by_id = {r.doc_id: r for r in recs}
    assert by_id["img"].error_type == "binary_file"
    assert by_id["huge"].error_type == "document_too_large"
    assert isinstance(by_id["empty"], RawDocument) and by_id["empty"].text == ""


def test_overlong_jsonl_line_quarantined_without_loading_the_rest(tmp_path):
    f = tmp_path / "long.jsonl"
    f.write_text(json.dumps({"id": "a", "text": "x" * 50_000}) + "\n" + json.dumps({"id": "b", "text": "ok"}) + "\n")
    _, recs = read_all(f, max_chars=1000)
    assert recs[0].error_type == "record_too_large"
    assert recs[1].doc_id == "b"


def test_parquet_input_and_wrong_columns(tmp_path):
    t = pa.table({"id": [r["id"] for r in RECORDS], "text": [r["text"] for r in RECORDS],
                  "lang": ["en"] * len(RECORDS)})
    pq.write_table(t, tmp_path / "good.parquet", row_group_size=7)
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "wrong.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 this is not parquet")
    plan, recs = read_all(tmp_path, docs_per_shard=10)
    docs = [r for r in recs if isinstance(r, RawDocument)]
    assert [d.doc_id for d in docs] == [r["id"] for r in RECORDS]
    assert json.loads(docs[0].metadata) == {"lang": "en"}
    errs = sorted((r.source.split("/")[-1], r.error_type) for r in recs if isinstance(r, Quarantined))
    assert errs == [("junk.parquet", "unreadable_parquet"), ("wrong.parquet", "missing_column")]
    assert len([s for s in plan.shards if s.files[0].source.endswith("good.parquet")]) > 1


def test_csv_input(tmp_path):
    f = tmp_path / "in.csv"
    f.write_text('id,text,url\n1,"Hello, world\nsecond line",https://a.test/1\n2,Bye,\n')
    _, recs = read_all(f)
    assert [(r.doc_id, r.text, r.url) for r in recs] == [("1", "Hello, world\nsecond line", "https://a.test/1"),
                                                         ("2", "Bye", None)]


def test_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        plan_inputs([str(tmp_path / "nope")], 10, 1 << 20)


def test_symlink_loop_does_not_hang(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("A")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    _, recs = read_all(tmp_path)
    assert [r.doc_id for r in recs] == ["d/a"]
