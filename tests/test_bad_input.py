"""Bad input, nothing lost: a corpus of realistic damage, run through the real flow and the real command line.

The corpus is generated in ``tmp_path`` (no binary fixtures). For every file the test knows, independently of
the reader, how many records it holds (or that it is one unreadable unit, or that planning skips it), and checks
that each one is in ``documents``, ``removed`` (whole document) or ``quarantine`` (with a clear reason), or in the
manifest's ``skipped_files``, and that the summary and the exit code say so.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import tracemalloc
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from conftest import assert_reconciles, read_dataset, run_flow
from scrapewash.records import Quarantined, RawDocument
from scrapewash.tasks.read import plan_inputs, read_shard

MB = 1 << 20
DEFAULT_MAX_CHARS = 5_000_000

WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there been one all we their has would when if so no will more can who about out "
    "them then than into could only other new some what time these two may first any like now my over such "
    "our man me even most made after also did many before must through back years where much your way well "
    "down should because each just those people how too little state good very make world still own see men "
    "work long here get both between life being under never day same another know while last might us great "
    "old year off come since against go came right used take three council river harbour minister report "
    "village school budget election hospital winter festival museum railway bridge farmers market teachers"
).split()


def prose(seed: int, paragraphs: int = 3, sentences: int = 4) -> str:
    """Distinct article-like text: paragraphs of 40+ words, blank lines between them."""
    rnd = random.Random(seed)
    paras = []
    for _ in range(paragraphs):
        sents = []
        for _ in range(sentences):
            words = [rnd.choice(WORDS) for _ in range(rnd.randint(12, 20))]
            sents.append(" ".join(words).capitalize() + ".")
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


def words_blob(seed: int, n_bytes: int) -> str:
    """``n_bytes`` of ASCII words on one line (no newline)."""
    rnd = random.Random(seed)
    chunk = " ".join(rnd.choice(WORDS) for _ in range(20000)) + " "
    return (chunk * (n_bytes // len(chunk) + 1))[:n_bytes]


def jsonl(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


@dataclass
class Expect:
    """What one input file must turn into."""

    docs: list[str] = field(default_factory=list)  # doc ids kept or removed as whole documents
    quarantine: Counter = field(default_factory=Counter)  # error_type -> rows
    skipped: str | None = None  # a word of the reason, when planning leaves the file out
    kept: list[str] = field(default_factory=list)  # doc ids that must be in `documents` (not just accounted)


class Corpus:
    def __init__(self, root: Path):
        self.root = root
        self.expect: dict[bytes, Expect] = {}  # path relative to root, as bytes

    def path(self, rel: str | bytes) -> bytes:
        rel_b = os.fsencode(rel)
        full = os.path.join(os.fsencode(self.root), rel_b)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        return full

    def write(self, rel: str | bytes, data: bytes | str, expect: Expect | None = None) -> bytes:
        full = self.path(rel)
        with open(full, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        if expect is not None:
            self.expect[os.fsencode(rel)] = expect
        return full

    def source(self, rel: bytes) -> str:
        """The `source` the output must name: the path as given, invalid UTF-8 bytes replaced."""
        return os.path.join(os.fsencode(str(self.root)), rel).decode("utf-8", "replace")

    def txt_id(self, rel: bytes) -> str:
        return rel[: -len(b".txt")].decode("utf-8", "replace")


def readable_prefix(data: bytes, codec: str) -> bytes:
    """What a decompressor recovers from a truncated or damaged stream (independently of the reader)."""
    d = zlib.decompressobj(wbits=31) if codec == "gz" else zstandard.ZstdDecompressor().decompressobj()
    out = []
    for i in range(0, len(data), 1024):
        try:
            out.append(d.decompress(data[i: i + 1024]))
        except (zlib.error, zstandard.ZstdError):
            break
    return b"".join(out)


def build_corpus(root: Path, big: bool = True) -> Corpus:
    c = Corpus(root)
    root.mkdir(parents=True, exist_ok=True)
    seed = iter(range(1000, 10**6))

    # Good documents, for company.
    for i in range(3):
        rel = f"good/article-{i}.txt"
        c.write(rel, prose(next(seed)), Expect(docs=[f"good/article-{i}"], kept=[f"good/article-{i}"]))

    # --- invalid UTF-8 ----------------------------------------------------------------------------------------
    c.write("enc/cp1252.txt", ("\u201cCaf\u00e9\u201d \u2013 na\u00efve. " + prose(next(seed))).encode("cp1252"),
            Expect(docs=["enc/cp1252"], kept=["enc/cp1252"]))
    c.write("enc/latin1.txt", ("Gr\u00fc\u00dfe aus M\u00fcnchen, \u00e0 bient\u00f4t. " + prose(next(seed)))
            .encode("latin-1"), Expect(docs=["enc/latin1"], kept=["enc/latin1"]))
    c.write("enc/surrogate-bytes.txt", prose(next(seed)).encode() + b" lone \xed\xa0\x80 surrogate.",
            Expect(docs=["enc/surrogate-bytes"], kept=["enc/surrogate-bytes"]))

    def with_bytes(doc_id: str, raw: bytes, text: str) -> bytes:
        """A JSON line whose text starts with ``raw`` bytes, spliced in as they are (not escaped)."""
        line = json.dumps({"id": doc_id, "text": "@RAW@" + text}).encode()
        return line.replace(b"@RAW@", raw)

    lines = [
        with_bytes("cp1252", b"\x93Quoted\x94 caf\xe9 \x96 ", prose(next(seed))),
        with_bytes("latin1", b"Gr\xfc\xdfe \xe0 bient\xf4t ", prose(next(seed))),
        json.dumps({"id": "escaped-surrogate", "text": "lone \ud800 here. " + prose(next(seed))}).encode(),
        with_bytes("raw-surrogate", b"raw \xed\xa0\x80 bytes. ", prose(next(seed))),
        json.dumps({"id": "pair", "text": "emoji \ud83d\ude00 pair. " + prose(next(seed))}).encode(),
        # A lone surrogate in the id, the url and a metadata field: they must survive Parquet too.
        json.dumps({"id": "id-\udc80", "text": prose(next(seed)), "url": "https://x.test/\udfff",
                    "tag": "\ud801"}).encode(),
        json.dumps({"id": "id-\udc81", "text": None}).encode(),
    ]
    c.write("enc/mixed-encodings.jsonl", b"\n".join(lines) + b"\n",
            Expect(docs=["cp1252", "latin1", "escaped-surrogate", "raw-surrogate", "pair", "id-\ufffd"],
                   kept=["cp1252", "latin1", "escaped-surrogate", "raw-surrogate", "pair", "id-\ufffd"],
                   quarantine=Counter(missing_text=1)))

    # --- binary files named .txt ------------------------------------------------------------------------------
    rnd = random.Random(7)
    noise = bytes(rnd.getrandbits(8) for _ in range(20000))
    c.write("binary/image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise,
            Expect(quarantine=Counter(binary_file=1)))
    c.write("binary/program.txt", b"\x7fELF\x02\x01\x01\x00" + noise[::-1], Expect(quarantine=Counter(binary_file=1)))
    c.write("binary/noise.txt", noise[5000:], Expect(quarantine=Counter(binary_file=1)))

    # --- empty and whitespace-only files ----------------------------------------------------------------------
    c.write("empty/empty.txt", b"", Expect(docs=["empty/empty"]))  # removed: empty_document
    c.write("empty/blank.txt", b"  \n\t\n   \r\n", Expect(docs=["empty/blank"]))
    c.write("empty/empty.jsonl", b"", Expect())  # no records
    c.write("empty/blank.jsonl", b"\n   \n\t\n\n", Expect())
    c.write("empty/empty.jsonl.gz", b"", Expect())  # 0 bytes
    c.write("empty/empty.jsonl.zst", b"", Expect())
    c.write("empty/no-records.jsonl.gz", gzip.compress(b""), Expect())
    c.write("empty/empty.parquet", b"", Expect(quarantine=Counter(unreadable_parquet=1)))
    c.write("empty/empty.csv", b"", Expect(quarantine=Counter(missing_column=1)))

    # --- truncated compressed streams -------------------------------------------------------------------------
    records = [{"id": f"t{i}", "text": prose(i, paragraphs=2, sentences=2)} for i in range(1500)]
    data = jsonl(records)
    for codec, comp in (("gz", gzip.compress(data)), ("zst", zstandard.ZstdCompressor(level=3).compress(data))):
        cut = comp[: len(comp) * 3 // 5]
        readable = readable_prefix(cut, codec).count(b"\n")
        assert 5 < readable < len(records)
        c.write(f"trunc/cut.jsonl.{codec}", cut,
                Expect(docs=[r["id"] for r in records[:readable]], quarantine=Counter(truncated_file=1)))
    c.write("trunc/header-only.jsonl.gz", gzip.compress(data)[:6], Expect(quarantine=Counter(truncated_file=1)))
    # Not compressed at all, or a second member / frame that is garbage (concatenated streams, as `cat a.gz b.gz`
    # makes): the first one's records are kept.
    c.write("trunc/not-gzip.jsonl.gz", data[:5000], Expect(quarantine=Counter(corrupt_file=1)))
    c.write("trunc/not-zstd.jsonl.zst", noise[:5000], Expect(quarantine=Counter(corrupt_file=1)))
    head = jsonl(records[:50])
    c.write("trunc/bad-member.jsonl.gz", gzip.compress(head) + b"\x1f\x8b\x08\x00" + noise[:3000],
            Expect(docs=[r["id"] for r in records[:50]], quarantine=Counter(corrupt_file=1)))
    c.write("trunc/bad-frame.jsonl.zst", zstandard.ZstdCompressor().compress(head) + noise[:3000],
            Expect(docs=[r["id"] for r in records[:50]], quarantine=Counter(corrupt_file=1)))

    # --- malformed JSONL among good lines ---------------------------------------------------------------------
    good = [{"id": f"j{i}", "text": prose(next(seed))} for i in range(4)]
    lines = [
        json.dumps(good[0]),
        '{"id": "broken", "text": "unterminated',
        "this is not json at all",
        json.dumps(good[1]),
        json.dumps([1, 2, 3]),
        "42",
        '"just a string"',
        json.dumps({"id": "no-text", "body": "x"}),
        json.dumps({"id": "text-number", "text": 5}),
        json.dumps({"id": "text-list", "text": ["a", "b"]}),
        json.dumps({"id": "text-null", "text": None}),
        '{"id": "text-nan", "text": NaN}',
        "[" * 200_000 + "]" * 200_000,  # nested deeper than any parser's recursion limit
        '{"id": "trailing", "text": "x"} garbage',
        "",
        json.dumps(good[2]),
        json.dumps({"text": good[3]["text"]}),  # no id: FILE:LINE
    ]
    c.write("json/mixed.jsonl", "\n".join(lines) + "\n", Expect(
        docs=["j0", "j1", "j2", f"{c.source(b'json/mixed.jsonl')}:{len(lines)}"],
        kept=["j0", "j1", "j2"],
        quarantine=Counter(malformed_json=4, not_an_object=3, missing_text=2, bad_text_type=3)))

    # --- CSV: invalid UTF-8 in a row, a row too short to have a text, a quoted multi-line text --------------
    rows = [b"id,text,url", b"c1," + prose(next(seed)).replace("\n\n", " ").encode() + b",https://c.test/1",
            b"c2,\"\x93Quoted\x94 caf\xe9. " + prose(next(seed)).encode() + b"\",",
            b"c3", b"c4,\"" + prose(next(seed)).encode() + b"\",https://c.test/4"]
    c.write("csv/mixed.csv", b"\r\n".join(rows) + b"\r\n",
            Expect(docs=["c1", "c2", "c4"], kept=["c1", "c2", "c4"], quarantine=Counter(missing_text=1)))
    c.write("csv/no-text.csv", "id,body\n1,a\n2,b\n", Expect(quarantine=Counter(missing_column=1)))

    # --- Parquet that is not what it claims -------------------------------------------------------------------
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ["a", "b"], "body": ["no text column", "here"]}), buf)
    c.write("parquet/wrong-columns.parquet", buf.getvalue().to_pybytes(), Expect(quarantine=Counter(missing_column=1)))
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ["n1", "n2", "n3"], "text": [1, 2, 3]}), buf)
    c.write("parquet/text-int.parquet", buf.getvalue().to_pybytes(), Expect(quarantine=Counter(bad_text_type=3)))
    c.write("parquet/garbage.parquet", b"PAR1" + noise[:3000] + b"PAR1",
            Expect(quarantine=Counter(unreadable_parquet=1)))

    # --- odd file names ---------------------------------------------------------------------------------------
    odd = ["names/with space.txt", "names/\u00fcn\u00efc\u00f6d\u00e9 \u6587\u5b57.txt", "names/new\nline.txt",
           b"names/bad-\xff\xfe-bytes.txt", "names/-leading-dash.txt", "names/" + "L" * 251 + ".txt"]
    for rel in odd:
        rel_b = os.fsencode(rel)
        c.write(rel, prose(next(seed)), Expect(docs=[c.txt_id(rel_b)], kept=[c.txt_id(rel_b)]))
    assert len(os.path.basename(c.path(odd[-1]))) == 255
    c.write("names/.hidden.txt", prose(next(seed)), Expect(skipped="hidden"))
    c.write("names/notes.md", "not an input", Expect(skipped="not an input file type"))

    # --- symlinks ---------------------------------------------------------------------------------------------
    links = root / "links"
    links.mkdir()
    (links / "loop-a.txt").symlink_to("loop-b.txt")
    (links / "loop-b.txt").symlink_to("loop-a.txt")
    (links / "parent").symlink_to("..")
    (links / "dangling.txt").symlink_to("missing-target.txt")
    (links / "alias.txt").symlink_to("../good/article-0.txt")  # good/ comes first: read there, once
    c.expect[b"links/loop-a.txt"] = Expect(skipped="loop")
    c.expect[b"links/loop-b.txt"] = Expect(skipped="loop")
    c.expect[b"links/parent"] = Expect(skipped="folder")
    c.expect[b"links/dangling.txt"] = Expect(skipped="missing")
    c.expect[b"links/alias.txt"] = Expect(skipped="same file")

    # --- a file nobody may read (root reads it anyway) --------------------------------------------------------
    locked = c.path("locked/secret.txt")
    Path(os.fsdecode(locked)).write_text(prose(next(seed)))
    os.chmod(locked, 0)
    if os.geteuid() == 0:  # root ignores the mode: the file is read like any other
        c.expect[b"locked/secret.txt"] = Expect(docs=["locked/secret"], kept=["locked/secret"])
    else:
        c.expect[b"locked/secret.txt"] = Expect(quarantine=Counter(unreadable_file=1))

    # --- very large documents and very long lines -------------------------------------------------------------
    if big:
        fifty = words_blob(next(seed), 50 * MB)
        c.write("big/fifty-mb.txt", fifty, Expect(quarantine=Counter(document_too_large=1)))
        before, after = ({"id": f"b{i}", "text": prose(next(seed))} for i in range(2))
        c.write("big/fifty-mb.jsonl",
                jsonl([before]) + json.dumps({"id": "huge", "text": fifty}).encode() + b"\n" + jsonl([after]),
                Expect(docs=["b0", "b1"], kept=["b0", "b1"], quarantine=Counter(record_too_large=1)))
        del fifty
        ten = words_blob(next(seed), 10 * MB)
        c.write("big/ten-mb-line.txt", ten, Expect(quarantine=Counter(document_too_large=1)))
        first = {"id": "first", "text": prose(next(seed))}
        c.write("big/ten-mb-last-line.jsonl",
                jsonl([first]) + json.dumps({"id": "ten-mb", "text": ten[::-1]}).encode(),  # no trailing newline
                Expect(docs=["first"], kept=["first"], quarantine=Counter(document_too_large=1)))
    return c


def expected_errors(c: Corpus) -> Counter:
    total: Counter = Counter()
    for e in c.expect.values():
        total.update(e.quarantine)
    return total


def check_every_record_accounted_for(c: Corpus, out: Path, counts: dict) -> None:
    """Each input file's records, counted independently, are in documents, removed or quarantine (or the file
    is in the manifest's skipped_files), with nothing extra and nothing missing."""
    run_id = counts["run_id"]
    docs = read_dataset(out, "documents", run_id).to_pylist()
    whole = [r for r in read_dataset(out, "removed", run_id).to_pylist() if r["part"] == "document"]
    quarantine = read_dataset(out, "quarantine", run_id).to_pylist()
    manifest = json.loads((out / "_runs" / f"{run_id}.json").read_text())
    skipped = {s["path"]: s["reason"] for s in manifest["skipped_files"]}

    accounted: dict[str, list[str]] = {}
    for r in docs + whole:
        accounted.setdefault(r["source"], []).append(r["doc_id"])
    kept: dict[str, set[str]] = {}
    for r in docs:
        kept.setdefault(r["source"], set()).add(r["doc_id"])
    errors: dict[str, Counter] = {}
    for q in quarantine:
        errors.setdefault(q["source"], Counter())[q["error_type"]] += 1
        assert q["error_type"], q
        assert q["error"] and len(q["error"]) > 15 and " " in q["error"], q  # a sentence, not a class name

    sources = set()
    for rel, e in c.expect.items():
        src = c.source(rel)
        sources.add(src)
        if e.skipped:
            assert src in skipped, (src, sorted(skipped))
            assert e.skipped in skipped[src], (src, skipped[src])
            assert src not in accounted and src not in errors, src
            continue
        assert sorted(accounted.get(src, [])) == sorted(e.docs), src
        assert set(e.kept) <= kept.get(src, set()), (src, e.kept, kept.get(src))
        assert errors.get(src, Counter()) == e.quarantine, (src, errors.get(src))
    assert set(accounted) | set(errors) <= sources, (set(accounted) | set(errors)) - sources
    assert set(skipped) <= sources, set(skipped) - sources

    n_records = sum(len(e.docs) + sum(e.quarantine.values()) for e in c.expect.values())
    assert counts["records_in"] == n_records
    assert counts["quarantined"] == len(quarantine) == sum(expected_errors(c).values())
    assert counts["quarantine_errors"] == dict(expected_errors(c))
    assert counts["skipped_files"] == len(skipped) == sum(1 for e in c.expect.values() if e.skipped)
    assert_reconciles(out, counts)

    # Repaired encodings; lone surrogates (in the id, url and metadata too) written as U+FFFD.
    by_id = {r["doc_id"]: r for r in docs}
    assert "decoded_windows_1252" in by_id["enc/cp1252"]["encoding_fixes"]
    assert "\u201cCaf\u00e9\u201d" in by_id["enc/cp1252"]["text"]
    assert "Gr\u00fc\u00dfe aus M\u00fcnchen" in by_id["enc/latin1"]["text"]
    assert "caf\u00e9" in by_id["cp1252"]["text"] and "bient\u00f4t" in by_id["latin1"]["text"]
    assert "\U0001f600" in by_id["pair"]["text"]
    assert "decoded_windows_1252" in by_id["c2"]["encoding_fixes"] and "caf\u00e9" in by_id["c2"]["text"]
    assert by_id["c1"]["encoding_fixes"] == [] and by_id["c4"]["url"] == "https://c.test/4"
    assert by_id["id-\ufffd"]["url"] == "https://x.test/\ufffd"
    assert json.loads(by_id["id-\ufffd"]["metadata"]) == {"tag": "\ufffd"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad") / "corpus"
    c = build_corpus(root)
    yield c
    os.chmod(c.path("locked/secret.txt"), 0o644)  # let pytest clean up


@pytest.mark.slow
def test_flow_accounts_for_every_record(corpus, tmp_path):
    out = tmp_path / "out"
    counts = run_flow([corpus.root], out)
    assert counts["committed"]
    check_every_record_accounted_for(corpus, out, counts)


def scrapewash(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(cwd / ".prefect")
    return subprocess.run([sys.executable, "-m", "scrapewash.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_command_line_exit_code_and_summary(corpus, tmp_path):
    out = tmp_path / "out"
    p = scrapewash("run", str(corpus.root), "--out", str(out), "--json", cwd=tmp_path)
    assert p.returncode == 3, p.stderr[-3000:]
    counts = json.loads(p.stdout)
    assert counts["quarantine_errors"] == dict(expected_errors(corpus))
    check_every_record_accounted_for(corpus, out, counts)


def _read(path, max_chars=DEFAULT_MAX_CHARS):
    plan = plan_inputs([str(path)], 100, 64 * MB)
    out = list(plan.quarantined)
    for s in plan.shards:
        out.extend(read_shard(s, max_chars=max_chars))
    return plan, out


@pytest.mark.parametrize("kind", ["jsonl", "txt", "jsonl.gz"])
@pytest.mark.parametrize("max_chars", [12_000_000, DEFAULT_MAX_CHARS])  # cleaned / quarantined as too large
def test_a_10mb_line_is_read_in_about_twice_its_size(tmp_path, kind, max_chars):
    ten = words_blob(3, 10 * MB)
    if kind == "txt":
        data = ten.encode()
    else:
        data = jsonl([{"id": "small", "text": "x"}]) + json.dumps({"id": "ten", "text": ten}).encode()
        if kind.endswith(".gz"):
            data = gzip.compress(data, compresslevel=1)
    f = tmp_path / f"line.{kind}"
    f.write_bytes(data)
    del data
    tracemalloc.start()
    try:
        last = None
        for rec in read_shard(plan_inputs([str(f)], 100, 64 * MB).shards[0], max_chars=max_chars):
            last = rec
        del rec
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if max_chars > len(ten):
        assert isinstance(last, RawDocument) and last.text.endswith(ten[-100:])
    else:
        assert isinstance(last, Quarantined) and last.error_type == "document_too_large"
        assert "read.max_document_chars" in last.error
    # The line as bytes and as text, or as text and as the parsed record: not four copies.
    assert peak < 2.5 * len(ten), peak / len(ten)


def test_unreadable_file_is_quarantined(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("runs as root: chmod 000 does not stop root from reading a file (see the vanished-file test)")
    f = tmp_path / "locked.txt"
    f.write_text("secret")
    f.chmod(0)
    try:
        _, [q] = _read(tmp_path)
    finally:
        f.chmod(0o644)
    assert isinstance(q, Quarantined) and q.error_type == "unreadable_file" and "Permission denied" in q.error


def test_unlistable_folder_is_quarantined(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("runs as root: chmod 000 does not stop root from listing a folder")
    (tmp_path / "in" / "locked").mkdir(parents=True)
    (tmp_path / "in" / "locked" / "a.txt").write_text("never read")
    (tmp_path / "in" / "locked").chmod(0)
    try:
        plan, [q] = _read(tmp_path / "in")
    finally:
        (tmp_path / "in" / "locked").chmod(0o755)
    assert q.error_type == "unreadable_folder" and q.source.endswith("locked") and "not read" in q.error


@pytest.mark.parametrize("name", ["gone.txt", "gone.jsonl", "gone.csv", "gone.parquet", "gone.jsonl.gz"])
def test_file_removed_between_planning_and_reading_is_quarantined(tmp_path, name):
    """A file that cannot be opened when its shard runs (works as root too, unlike chmod 000)."""
    f = tmp_path / name
    if name.endswith(".parquet"):
        pq.write_table(pa.table({"id": ["a"], "text": ["x"]}), f)
    else:
        f.write_bytes(b'id,text\n1,x\n' if name.endswith(".csv") else b'{"id": "a", "text": "x"}\n')
    plan = plan_inputs([str(tmp_path)], 100, 64 * MB)
    f.unlink()
    recs = [r for s in plan.shards for r in read_shard(s)]
    assert len(recs) == 1 and isinstance(recs[0], Quarantined), recs
    assert recs[0].error_type in ("unreadable_file", "unreadable_parquet") and "No such file" in recs[0].error


def test_skipped_files_say_why(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("A")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("not input")
    (tmp_path / "x.jsonl").symlink_to("y.jsonl")
    (tmp_path / "y.jsonl").symlink_to("x.jsonl")
    (tmp_path / "z.txt").symlink_to("nowhere.txt")
    (tmp_path / "b.txt").symlink_to("d/a.txt")  # comes before d/a.txt: read under this name
    os.mkfifo(tmp_path / "pipe.txt")
    plan, recs = _read(tmp_path)
    assert [r.doc_id for r in recs] == ["b"]
    reasons = {os.path.relpath(p, tmp_path): why for p, why in plan.skipped}
    assert reasons == {
        ".git": "hidden folder (not read)",
        "d/loop": f"symbolic link to a folder (not followed; it points to {tmp_path / 'd'})",
        "d/a.txt": f"same file as {tmp_path / 'b.txt'} (read once, under that name)",
        "pipe.txt": "not a regular file (a pipe, socket or device)",
        "x.jsonl": "symbolic link loop (it points to y.jsonl, which leads back to itself)",
        "y.jsonl": "symbolic link loop (it points to x.jsonl, which leads back to itself)",
        "z.txt": "broken symbolic link (its target nowhere.txt is missing)",
    }
    # The same file reached twice by the same path (a folder and a pattern inside it) needs no mention.
    plan = plan_inputs([str(tmp_path / "d"), str(tmp_path / "d" / "*.txt")], 100, MB)
    assert plan.n_files == 1 and plan.skipped == [(str(tmp_path / "d" / "loop"), reasons["d/loop"])]
