"""Reading raw documents: planning inputs into shards and streaming their records.

Supported inputs (DESIGN.md, "Command line"):

* ``.txt`` files, or folders of them: one document per file, ``doc_id`` = path
  relative to the folder without the extension;
* ``.jsonl`` / ``.jsonl.gz`` / ``.jsonl.zst``: one JSON object per line with
  ``id``, ``text``, optional ``url``; every other field is kept as metadata;
* ``.parquet`` with the same columns;
* ``.csv`` (optionally ``.gz``/``.zst``) with a header row and the same columns.

Everything streams: a shard holds a bounded number of documents or bytes, and
records are yielded one at a time. An input that cannot be read yields a
:class:`~scrapewash.records.Quarantined` record with the reason instead of
raising, so one bad file or line never stops the rest of the run.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import ftfy.bad_codecs  # noqa: F401  (registers the "sloppy-windows-1252" codec)

from scrapewash.records import Quarantined, RawDocument

POSITION_BITS = 40
MAX_FILES = 1 << (63 - POSITION_BITS)
_CHUNK = 1 << 20
RAW_SNIPPET_CHARS = 2000

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
PARQUET_SUFFIXES = (".parquet",)
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zst")


class InputError(Exception):
    """An input named on the command line does not exist or cannot be listed."""


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str  # filesystem path (may contain surrogate escapes)
    source: str  # printable path recorded in the output
    kind: str  # txt | jsonl | parquet | csv
    compression: str | None  # None | gz | zst
    index: int  # position of the file in the global input order
    doc_id: str | None = None  # for .txt files


@dataclass(frozen=True, slots=True)
class Shard:
    """A unit of work: several .txt files, or a part of one structured file."""

    index: int
    files: tuple[InputFile, ...]
    start: int = 0  # jsonl: byte offset; parquet: first row group
    stop: int | None = None  # jsonl: byte offset (exclusive); parquet: row group (exclusive)
    first_line: int = 1  # jsonl: line number at `start`
    size_bytes: int = 0

    @property
    def label(self) -> str:
        """A short human-readable name, used for task run names."""
        if len(self.files) == 1:
            name = self.files[0].source
            if self.stop is not None:
                return f"{name}[{self.start}:{self.stop}]"
            return name
        return f"{self.files[0].source} (+{len(self.files) - 1} files)"


@dataclass(slots=True)
class Plan:
    shards: list[Shard]
    skipped: list[tuple[str, str]]  # (path, reason): files in folders that are not inputs
    quarantined: list[Quarantined]  # inputs that failed while planning
    n_files: int
    total_bytes: int
    # Input files planned, as [absolute path, size, mtime_ns]: what the manifest records as read.
    ledger: list[list[object]] = field(default_factory=list)
    already_read: int = 0  # files skipped because an earlier run read them unchanged (``known``)
    settling: list[str] = field(default_factory=list)  # files left for a later run (modified too recently)


def printable_path(path: str) -> str:
    """A path as valid UTF-8 text (undecodable bytes of odd file names become U+FFFD)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def classify(name: str) -> tuple[str, str | None] | None:
    """Return (kind, compression) for a file name, or None if it is not an input."""
    low = name.lower()
    for suffixes, kind in (
        (JSONL_SUFFIXES, "jsonl"),
        (CSV_SUFFIXES, "csv"),
        (PARQUET_SUFFIXES, "parquet"),
        (TEXT_SUFFIXES, "txt"),
    ):
        for s in suffixes:
            if low.endswith(s):
                comp = "gz" if s.endswith(".gz") else "zst" if s.endswith(".zst") else None
                return kind, comp
    return None


def _walk(folder: str) -> Iterator[str]:
    """All files under ``folder`` in sorted order, not following directory symlinks."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            yield os.path.join(root, f)


def ledger_key(path: str) -> str:
    """How a file is named in the input ledger: its absolute path, as text."""
    return printable_path(os.path.abspath(path))


def expand_input(inp: str) -> list[str]:
    """An input as given, or the sorted matches of a glob pattern (``**`` matches folders recursively).

    A path that exists is taken as it is, even if its name contains glob characters.
    """
    if os.path.lexists(inp) or not glob.has_magic(inp):
        return [inp]
    return sorted(glob.glob(inp, recursive=True))


def plan_inputs(inputs: Iterable[str], docs_per_shard: int, bytes_per_shard: int,
                known: Mapping[str, tuple[int, int]] | None = None,
                modified_before_ns: int | None = None) -> Plan:
    """List the input files in a deterministic order and cut them into shards.

    Order: the inputs as given, folders walked in sorted path order, glob
    patterns expanded in sorted order. The order decides which copy of a
    duplicate survives, so it never depends on the file system's listing order
    or on the number of workers.

    ``known`` (absolute path -> (size, mtime_ns)) lists files that earlier runs
    read: a file found there unchanged is left out (counted in
    ``already_read``). A file modified after ``modified_before_ns`` is left for
    a later run (listed in ``settling``): it may still be being written.
    """
    files: list[InputFile] = []
    skipped: list[tuple[str, str]] = []
    quarantined: list[Quarantined] = []
    ledger: list[list[object]] = []
    settling: list[str] = []
    already_read = 0

    seen: set[str] = set()

    def add(path: str, source: str, doc_id: str | None, explicit: bool) -> None:
        nonlocal already_read
        real = os.path.realpath(path)
        if real in seen:
            return  # reached twice (a folder and a pattern that matches inside it): read once
        seen.add(real)
        kind = classify(path)
        if kind is None:
            if explicit:
                quarantined.append(
                    Quarantined(source=source, error_type="unsupported_input",
                                error="not a .txt, .jsonl[.gz|.zst], .csv[.gz|.zst] or .parquet file")
                )
            else:
                skipped.append((source, "not an input file type"))
            return
        if known is not None or modified_before_ns is not None:
            try:
                st = os.stat(path)
            except OSError:
                st = None  # planned as usual: the size check below quarantines it with the reason
            if st is not None:
                key = ledger_key(path)
                if known is not None and known.get(key) == (st.st_size, st.st_mtime_ns):
                    already_read += 1
                    return
                if modified_before_ns is not None and st.st_mtime_ns > modified_before_ns:
                    settling.append(source)
                    return
        files.append(InputFile(path, source, kind[0], kind[1], len(files),
                               doc_id if kind[0] == "txt" else None))

    for pattern in inputs:
        matches = expand_input(pattern)
        from_glob = matches != [pattern]
        for inp in matches:
            if os.path.isdir(inp):
                for path in _walk(inp):
                    rel = os.path.relpath(path, inp)
                    if os.path.basename(path).startswith("."):
                        skipped.append((printable_path(path), "hidden file"))
                        continue
                    if not os.path.isfile(path):
                        skipped.append((printable_path(path), "not a regular file (broken link or special file)"))
                        continue
                    stem = rel[: -len(".txt")] if rel.lower().endswith(".txt") else rel
                    add(path, printable_path(path), printable_path(stem), explicit=False)
            elif os.path.isfile(inp):
                name = os.path.basename(inp)
                stem = name[: -len(".txt")] if name.lower().endswith(".txt") else name
                add(inp, printable_path(inp), printable_path(stem), explicit=not from_glob)
            elif from_glob:
                skipped.append((printable_path(inp), "not a regular file (broken link or special file)"))
            else:
                raise InputError(f"input not found: {printable_path(inp)}")
    if len(files) >= MAX_FILES:
        raise InputError(f"too many input files ({len(files)}); at most {MAX_FILES - 1} per run")

    shards: list[Shard] = []
    total = 0
    txt_group: list[InputFile] = []
    txt_bytes = 0

    def flush_txt() -> None:
        nonlocal txt_group, txt_bytes
        if txt_group:
            shards.append(Shard(len(shards), tuple(txt_group), size_bytes=txt_bytes))
            txt_group, txt_bytes = [], 0

    for f in files:
        try:
            st = os.stat(f.path)
        except OSError as e:
            flush_txt()
            quarantined.append(Quarantined(source=f.source, error_type="unreadable_file", error=str(e)))
            continue
        size = st.st_size
        ledger.append([ledger_key(f.path), size, st.st_mtime_ns])
        total += size
        if f.kind == "txt":
            txt_group.append(f)
            txt_bytes += size
            if len(txt_group) >= docs_per_shard or txt_bytes >= bytes_per_shard:
                flush_txt()
            continue
        flush_txt()
        if f.kind == "jsonl" and f.compression is None and size > bytes_per_shard:
            try:
                for start, stop, line in _split_points(f.path, size, bytes_per_shard):
                    shards.append(Shard(len(shards), (f,), start, stop, line, stop - start))
            except OSError as e:
                quarantined.append(Quarantined(source=f.source, error_type="unreadable_file", error=str(e)))
        elif f.kind == "parquet":
            try:
                import pyarrow.parquet as pq

                md = pq.ParquetFile(f.path).metadata
            except Exception as e:  # noqa: BLE001 - any failure means the file is unusable
                quarantined.append(
                    Quarantined(source=f.source, error_type="unreadable_parquet", error=_describe(e))
                )
                continue
            rg_start, rows = 0, 0
            for rg in range(md.num_row_groups):
                rows += md.row_group(rg).num_rows
                if rows >= docs_per_shard:
                    shards.append(Shard(len(shards), (f,), rg_start, rg + 1, size_bytes=size))
                    rg_start, rows = rg + 1, 0
            if rg_start < md.num_row_groups or md.num_row_groups == 0:
                shards.append(Shard(len(shards), (f,), rg_start, md.num_row_groups, size_bytes=size))
        else:
            shards.append(Shard(len(shards), (f,), size_bytes=size))
    flush_txt()
    return Plan(shards, skipped, quarantined, len(files), total, ledger, already_read, settling)


def _split_points(path: str, size: int, target: int) -> Iterator[tuple[int, int, int]]:
    """Cut a plain JSONL file into byte ranges that end on line boundaries,
    with the line number each range starts at (one fast pass counting newlines)."""
    start, line = 0, 1
    with open(path, "rb") as fh:
        while start < size:
            want = start + target
            if want >= size:
                yield start, size, line
                return
            fh.seek(want)
            rest = fh.readline()  # finish the line that crosses the cut
            stop = want + len(rest)
            fh.seek(start)
            remaining, newlines = stop - start, 0
            while remaining:
                buf = fh.read(min(_CHUNK, remaining))
                if not buf:
                    break
                newlines += buf.count(b"\n")
                remaining -= len(buf)
            yield start, stop, line
            start, line = stop, line + newlines


def _describe(e: BaseException) -> str:
    msg = str(e) or e.__class__.__name__
    return f"{e.__class__.__name__}: {msg}" if not msg.startswith(e.__class__.__name__) else msg


# --- byte streams -----------------------------------------------------------------------------


class TruncatedStream(Exception):
    """A compressed stream ended before its end-of-stream marker."""


def _decompressed(fh: io.BufferedReader, make, name: str, errors: tuple[type[BaseException], ...]
                  ) -> Iterator[bytes]:
    """Decompress concatenated gzip members or zstd frames, yielding everything
    recoverable before reporting a truncated or corrupt stream."""
    obj = make()
    pending = b""
    saw_data = False
    while True:
        buf = pending or fh.read(_CHUNK)
        pending = b""
        if not buf:
            break
        saw_data = True
        try:
            out = obj.decompress(buf)
        except errors as e:
            raise TruncatedStream(f"corrupt {name} stream: {e}") from e
        if out:
            yield out
        if obj.eof:
            pending = obj.unused_data
            obj = make()
            saw_data = False
            if not pending.strip(b"\x00"):  # padding after the last member
                pending = b""
    if saw_data and not obj.eof:
        raise TruncatedStream(f"{name} stream ended before its end-of-stream marker (truncated file)")


def _zstd_chunks(fh: io.BufferedReader) -> Iterator[bytes]:
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    return _decompressed(fh, dctx.decompressobj, "zstd", (zstandard.ZstdError,))


def _gzip_chunks(fh: io.BufferedReader) -> Iterator[bytes]:
    return _decompressed(fh, lambda: zlib.decompressobj(wbits=31), "gzip", (zlib.error,))


def _plain_chunks(fh: io.BufferedReader, start: int, stop: int | None) -> Iterator[bytes]:
    fh.seek(start)
    remaining = None if stop is None else stop - start
    while remaining is None or remaining > 0:
        buf = fh.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
        if not buf:
            return
        if remaining is not None:
            remaining -= len(buf)
        yield buf


def _lines(chunks: Iterator[bytes], max_line: int) -> Iterator[tuple[bytes | None, int]]:
    """Split a byte stream into lines (without the newline).

    Yields ``(line, length)``; a line longer than ``max_line`` bytes is yielded
    as ``(None, length)`` without ever being held in memory in full.
    """
    buf = bytearray()
    overlong = 0  # bytes of a too-long line skipped so far
    for chunk in chunks:
        pos = 0
        while True:
            nl = chunk.find(b"\n", pos)
            if nl < 0:
                piece = chunk[pos:]
                if overlong:
                    overlong += len(piece)
                else:
                    buf += piece
                    if len(buf) > max_line:
                        overlong = len(buf)
                        buf = bytearray()
                break
            piece = chunk[pos:nl]
            if overlong:
                yield None, overlong + len(piece)
                overlong = 0
            elif len(buf) + len(piece) > max_line:
                yield None, len(buf) + len(piece)
                buf = bytearray()
            else:
                buf += piece
                yield bytes(buf), len(buf)
                buf = bytearray()
            pos = nl + 1
    if overlong:
        yield None, overlong
    elif buf:
        yield bytes(buf), len(buf)


# --- decoding -----------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Decode input bytes to text, recording any byte-level fix.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are decoded as such.
    Anything else that is not valid UTF-8 is decoded as Windows-1252 (the
    encoding such bytes nearly always are in scraped text), with undefined bytes
    mapped like Latin-1, and the fix is recorded as ``decoded_windows_1252``.
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), ("removed_utf8_bom",)
        except UnicodeDecodeError:
            data = data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), ("decoded_utf16",)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        return data.decode("sloppy-windows-1252"), ("decoded_windows_1252",)


def looks_binary(data: bytes) -> str | None:
    """Why ``data`` is not text, or None. Looks at the first 8 KiB."""
    head = data[:8192]
    if not head:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"\x00" in head:
        return "contains NUL bytes (binary file)"
    ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if ctrl > len(head) * 0.05:
        return f"{ctrl} control bytes in the first {len(head)} bytes (binary file)"
    return None


def _snippet(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data[: RAW_SNIPPET_CHARS * 4].decode("utf-8", "replace")
    s = data[:RAW_SNIPPET_CHARS]
    return s.encode("utf-8", "replace").decode("utf-8")


# --- readers ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fields:
    text: str = "text"
    id: str = "id"
    url: str = "url"


def _order(f: InputFile, position: int) -> int:
    return (f.index << POSITION_BITS) | min(position, (1 << POSITION_BITS) - 1)


def _from_record(
    rec: object, f: InputFile, pos_label: str, position: int, fields: Fields,
    max_chars: int, decode_fixes: tuple[str, ...], raw: bytes | str | None, default_id: str,
) -> RawDocument | Quarantined:
    if not isinstance(rec, dict):
        return Quarantined(f.source, "not_an_object", f"record is a JSON {type(rec).__name__}, not an object",
                           pos_label, None, _snippet(raw) if raw is not None else None)
    rid = rec.get(fields.id)
    doc_id = default_id if rid is None or rid == "" else str(rid)
    text = rec.get(fields.text)
    if text is None:
        why = f"missing field '{fields.text}'" if fields.text not in rec else f"field '{fields.text}' is null"
        return Quarantined(f.source, "missing_text", why, pos_label, doc_id,
                           _snippet(raw) if raw is not None else None)
    if not isinstance(text, str):
        return Quarantined(f.source, "bad_text_type",
                           f"field '{fields.text}' is {type(text).__name__}, expected string",
                           pos_label, doc_id, _snippet(raw) if raw is not None else None)
    if len(text) > max_chars:
        return Quarantined(f.source, "document_too_large",
                           f"text has {len(text)} characters, more than the limit of {max_chars}",
                           pos_label, doc_id, _snippet(text))
    url = rec.get(fields.url)
    meta = {k: v for k, v in rec.items() if k not in (fields.id, fields.text, fields.url)}
    if url is not None and not isinstance(url, str):
        meta[fields.url] = url
        url = None
    metadata = json.dumps(meta, ensure_ascii=False, default=str) if meta else None
    if metadata is not None:
        metadata = metadata.encode("utf-8", "replace").decode("utf-8")
    return RawDocument(doc_id, text, f.source, pos_label, _order(f, position), url or None, metadata,
                       decode_fixes)


def _read_txt(f: InputFile, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    doc_id = f.doc_id or f.source
    try:
        with open(f.path, "rb") as fh:
            data = fh.read(max_chars * 4 + 1)
    except OSError as e:
        yield Quarantined(f.source, "unreadable_file", _describe(e), None, doc_id)
        return
    if len(data) > max_chars * 4:
        yield Quarantined(f.source, "document_too_large",
                          f"file is larger than {max_chars * 4} bytes", None, doc_id, _snippet(data))
        return
    why = looks_binary(data)
    if why:
        yield Quarantined(f.source, "binary_file", why, None, doc_id, None)
        return
    text, fixes = decode_bytes(data)
    if len(text) > max_chars:
        yield Quarantined(f.source, "document_too_large",
                          f"text has {len(text)} characters, more than the limit of {max_chars}",
                          None, doc_id, _snippet(text))
        return
    yield RawDocument(doc_id, text, f.source, f.source, _order(f, 0), None, None, fixes)


def _open_chunks(f: InputFile, fh: io.BufferedReader, start: int, stop: int | None) -> Iterator[bytes]:
    if f.compression == "gz":
        return _gzip_chunks(fh)
    if f.compression == "zst":
        return _zstd_chunks(fh)
    return _plain_chunks(fh, start, stop)


def _open_input(f: InputFile) -> io.BufferedReader | Quarantined:
    """The input file opened for reading, or the quarantine record saying why it cannot be."""
    try:
        return open(f.path, "rb")
    except OSError as e:
        return Quarantined(f.source, "unreadable_file", _describe(e))


def _read_jsonl(shard: Shard, fields: Fields, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    f = shard.files[0]
    line_no = shard.first_line - 1
    max_line = max_chars * 4 + 1024
    fh = _open_input(f)
    if isinstance(fh, Quarantined):
        yield fh
        return
    with fh:
        try:
            for raw, length in _lines(_open_chunks(f, fh, shard.start, shard.stop), max_line):
                line_no += 1
                pos = f"{f.source}:{line_no}"
                if raw is None:
                    yield Quarantined(f.source, "record_too_large",
                                      f"line of {length} bytes is longer than the limit of {max_line}", pos)
                    continue
                if not raw.strip():
                    continue  # blank lines separate nothing in JSONL
                line, fixes = decode_bytes(raw)
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    yield Quarantined(f.source, "malformed_json", _describe(e), pos, None, _snippet(raw))
                    continue
                yield _from_record(rec, f, pos, line_no, fields, max_chars, fixes, raw,
                                   f"{f.source}:{line_no}")
        except TruncatedStream as e:
            yield Quarantined(f.source, "truncated_file", f"{e}; records after line {line_no} are lost",
                              f"{f.source}:{line_no + 1}")
        except OSError as e:
            yield Quarantined(f.source, "unreadable_file", f"{_describe(e)} after line {line_no}",
                              f"{f.source}:{line_no + 1}")


def _read_csv(shard: Shard, fields: Fields, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    f = shard.files[0]
    fh = _open_input(f)
    if isinstance(fh, Quarantined):
        yield fh
        return
    with fh:
        row_no = 0
        try:
            stream = io.TextIOWrapper(_ChunkReader(_open_chunks(f, fh, 0, None)), encoding="utf-8",
                                      errors="replace", newline="")
            csv.field_size_limit(max_chars * 4)
            reader = csv.DictReader(stream)
            if reader.fieldnames is None or fields.text not in reader.fieldnames:
                yield Quarantined(f.source, "missing_column", f"CSV header has no '{fields.text}' column",
                                  None, None, ",".join(reader.fieldnames or [])[:RAW_SNIPPET_CHARS])
                return
            for row in reader:
                row_no += 1
                pos = f"{f.source}#row={row_no}"
                yield _from_record(dict(row), f, pos, row_no, fields, max_chars, (), None,
                                   f"{f.source}#row={row_no}")
        except TruncatedStream as e:
            yield Quarantined(f.source, "truncated_file", f"{e}; rows after row {row_no} are lost",
                              f"{f.source}#row={row_no + 1}")
        except (csv.Error, OSError) as e:
            yield Quarantined(f.source, "malformed_csv", f"{_describe(e)} after row {row_no}",
                              f"{f.source}#row={row_no + 1}")


class _ChunkReader(io.RawIOBase):
    """A file-like view of an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _read_parquet(shard: Shard, fields: Fields, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    import pyarrow.parquet as pq

    f = shard.files[0]
    try:
        pf = pq.ParquetFile(f.path)
    except Exception as e:  # noqa: BLE001
        yield Quarantined(f.source, "unreadable_parquet", _describe(e))
        return
    names = pf.schema_arrow.names
    if fields.text not in names:
        yield Quarantined(f.source, "missing_column",
                          f"Parquet file has no '{fields.text}' column (columns: {', '.join(names)[:500]})")
        return
    stop = pf.metadata.num_row_groups if shard.stop is None else shard.stop
    row = sum(pf.metadata.row_group(i).num_rows for i in range(shard.start))
    for rg in range(shard.start, stop):
        try:
            for batch in pf.iter_batches(batch_size=1024, row_groups=[rg]):
                for rec in batch.to_pylist():
                    pos = f"{f.source}#row={row}"
                    yield _from_record(rec, f, pos, row, fields, max_chars, (), None, pos)
                    row += 1
        except Exception as e:  # noqa: BLE001
            n = pf.metadata.row_group(rg).num_rows
            yield Quarantined(f.source, "unreadable_parquet",
                              f"row group {rg} ({n} rows) could not be read: {_describe(e)}",
                              f"{f.source}#row_group={rg}")
            row = sum(pf.metadata.row_group(i).num_rows for i in range(rg + 1))


def read_shard(shard: Shard, fields: Fields = Fields(), max_chars: int = 5_000_000
               ) -> Iterator[RawDocument | Quarantined]:
    """Stream the records of one shard, in input order."""
    kind = shard.files[0].kind
    if kind == "txt":
        for f in shard.files:
            yield from _read_txt(f, max_chars)
    elif kind == "jsonl":
        yield from _read_jsonl(shard, fields, max_chars)
    elif kind == "csv":
        yield from _read_csv(shard, fields, max_chars)
    elif kind == "parquet":
        yield from _read_parquet(shard, fields, max_chars)
    else:  # pragma: no cover - classify() only returns the kinds above
        raise ValueError(kind)


