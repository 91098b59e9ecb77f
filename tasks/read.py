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
import errno
import glob
import hashlib
import io
import json
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import ftfy.bad_codecs  # noqa: F401  (registers the "sloppy-windows-1252" codec)

from scrapewash.records import Quarantined, RawDocument

POSITION_BITS = 40
MAX_FILES = 1 << (63 - POSITION_BITS)
SHARDS_WANTED = 16  # a few big JSONL files are cut into about this many shards
SPLIT_FLOOR = 4 << 20  # ... but none smaller than this
_CHUNK = 1 << 20
_FEED = 1 << 16  # compressed bytes given to a decompressor at a time
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
    # Input files planned, as [absolute path, size, mtime_ns, content digest]: what the manifest records.
    ledger: list[list[object]] = field(default_factory=list)
    already_read: int = 0  # files skipped because an earlier run read them, or the same content (``known``)
    settling: list[str] = field(default_factory=list)  # files left for a later run (modified too recently)
    same_content: list[tuple[str, str]] = field(default_factory=list)  # (file, earlier file with its content)


@dataclass(slots=True)
class Ledger:
    """What earlier committed runs read (from their manifests): the input files they planned."""

    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # absolute path -> (size, mtime_ns)
    digests: dict[str, str] = field(default_factory=dict)  # content digest -> absolute path read with it


def file_digest(path: str) -> str | None:
    """BLAKE2b-128 of a file's bytes (None if it cannot be read: the reader quarantines it then)."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
    except OSError:
        return None


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


def _walk(folder: str, skipped: list[tuple[str, str]], quarantined: list[Quarantined]) -> Iterator[str]:
    """All files under ``folder`` in sorted order, not following directory symlinks.

    Folders it does not enter are listed in ``skipped`` with the reason (hidden folders,
    symbolic links to folders); a folder it cannot list is quarantined, since its files
    are input that was not read.
    """

    def unlistable(e: OSError) -> None:
        where = printable_path(os.fsdecode(e.filename)) if e.filename is not None else printable_path(folder)
        quarantined.append(Quarantined(where, "unreadable_folder",
                                       f"folder cannot be listed ({e.strerror or _describe(e)}); "
                                       "the files in it were not read"))

    for root, dirs, files in os.walk(folder, followlinks=False, onerror=unlistable):
        entered = []
        for d in sorted(dirs):
            path = os.path.join(root, d)
            if d.startswith("."):
                skipped.append((printable_path(path), "hidden folder (not read)"))
            elif os.path.islink(path):
                skipped.append((printable_path(path),
                                f"symbolic link to a folder (not followed; it points to "
                                f"{printable_path(os.readlink(path))})"))
            else:
                entered.append(d)
        dirs[:] = entered
        for f in sorted(files):
            yield os.path.join(root, f)


def not_regular_reason(path: str) -> str:
    """Why ``path``, found in a folder, is not a regular file that can be read."""
    if os.path.islink(path):
        target = printable_path(os.readlink(path))
        try:
            os.stat(path)
        except OSError as e:
            if e.errno == errno.ELOOP:
                return f"symbolic link loop (it points to {target}, which leads back to itself)"
            if e.errno == errno.ENOENT:
                return f"broken symbolic link (its target {target} is missing)"
            return f"symbolic link that cannot be followed to {target} ({e.strerror})"
        return f"symbolic link to something that is not a regular file ({target})"
    return "not a regular file (a pipe, socket or device)"


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
                known: Ledger | None = None,
                modified_before_ns: int | None = None) -> Plan:
    """List the input files in a deterministic order and cut them into shards.

    Order: the inputs as given, folders walked in sorted path order, glob
    patterns expanded in sorted order. The order decides which copy of a
    duplicate survives, so it never depends on the file system's listing order
    or on the number of workers.

    ``known`` lists files that earlier runs read: a file found there unchanged
    (same path, size and mtime), or with the content of a file read before, is
    left out (counted in ``already_read``; the latter also in ``same_content``). A file modified after ``modified_before_ns`` is left for
    a later run (listed in ``settling``): it may still be being written.
    """
    files: list[InputFile] = []
    skipped: list[tuple[str, str]] = []
    quarantined: list[Quarantined] = []
    ledger: list[list[object]] = []
    settling: list[str] = []
    same_content: list[tuple[str, str]] = []
    digests: dict[str, str] = {}
    already_read = 0

    seen: dict[str, str] = {}  # real path -> the path it was first reached by

    def add(path: str, source: str, doc_id: str | None, explicit: bool) -> None:
        nonlocal already_read
        real = os.path.realpath(path)
        first = seen.get(real)
        if first is not None:
            # Reached twice: read once. The same path twice (a folder and a pattern that matches inside it)
            # needs no mention; another name for the file (a symbolic link to it) is listed as skipped.
            if os.path.abspath(first) != os.path.abspath(path):
                skipped.append((source, f"same file as {printable_path(first)} (read once, under that name)"))
            return
        seen[real] = path
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
        try:
            st = os.stat(path)
        except OSError:
            st = None  # planned as usual: the size check below quarantines it with the reason
        if st is not None:
            if known is not None and known.files.get(ledger_key(path)) == (st.st_size, st.st_mtime_ns):
                already_read += 1
                return
            if modified_before_ns is not None and st.st_mtime_ns > modified_before_ns:
                settling.append(source)
                return
            digest = file_digest(path)
            if digest is not None:
                digests[path] = digest
                if known is not None and digest in known.digests:
                    already_read += 1
                    same_content.append((source, known.digests[digest]))
                    return
        files.append(InputFile(path, source, kind[0], kind[1], len(files),
                               doc_id if kind[0] == "txt" else None))

    for pattern in inputs:
        matches = expand_input(pattern)
        from_glob = matches != [pattern]
        for inp in matches:
            if os.path.isdir(inp):
                for path in _walk(inp, skipped, quarantined):
                    rel = os.path.relpath(path, inp)
                    if os.path.basename(path).startswith("."):
                        skipped.append((printable_path(path), "hidden file"))
                        continue
                    if not os.path.isfile(path):
                        skipped.append((printable_path(path), not_regular_reason(path)))
                        continue
                    stem = rel[: -len(".txt")] if rel.lower().endswith(".txt") else rel
                    add(path, printable_path(path), printable_path(stem), explicit=False)
            elif os.path.isfile(inp):
                name = os.path.basename(inp)
                stem = name[: -len(".txt")] if name.lower().endswith(".txt") else name
                add(inp, printable_path(inp), printable_path(stem), explicit=not from_glob)
            elif from_glob:
                skipped.append((printable_path(inp), not_regular_reason(inp)))
            else:
                raise InputError(f"input not found: {printable_path(inp)}")
    if len(files) >= MAX_FILES:
        raise InputError(f"too many input files ({len(files)}); at most {MAX_FILES - 1} per run")

    # A run of a few big JSONL files is cut finer than ``bytes_per_shard``, into about
    # SHARDS_WANTED shards (none under SPLIT_FLOOR bytes), so that every worker has shards to take
    # until the end. The cut depends on the input alone, never on the number of workers.
    splittable = 0
    for f in files:
        if f.kind == "jsonl" and f.compression is None:
            try:
                splittable += os.stat(f.path).st_size
            except OSError:
                pass
    split_bytes = min(bytes_per_shard, max(SPLIT_FLOOR, splittable // SHARDS_WANTED))
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
        ledger.append([ledger_key(f.path), size, st.st_mtime_ns, digests.get(f.path)])
        total += size
        if f.kind == "txt":
            txt_group.append(f)
            txt_bytes += size
            if len(txt_group) >= docs_per_shard or txt_bytes >= bytes_per_shard:
                flush_txt()
            continue
        flush_txt()
        if f.kind == "jsonl" and f.compression is None and size > split_bytes:
            try:
                pieces = -(-size // split_bytes)
                for start, stop, line in _split_points(f.path, size, -(-size // pieces)):  # even pieces
                    shards.append(Shard(len(shards), (f,), start, stop, line, stop - start))
            except OSError as e:
                quarantined.append(Quarantined(source=f.source, error_type="unreadable_file", error=str(e)))
        elif f.kind == "parquet":
            try:
                import pyarrow.parquet as pq

                md = pq.ParquetFile(f.path).metadata
            except Exception as e:  # noqa: BLE001 - any failure means the file is unusable
                quarantined.append(Quarantined(source=f.source, error_type="unreadable_parquet",
                                               error=f"not a readable Parquet file ({_describe(e)})"))
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
    return Plan(shards, skipped, quarantined, len(files), total, ledger, already_read, settling, same_content)


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

    error_type = "truncated_file"


class CorruptStream(TruncatedStream):
    """A compressed stream holds data its decompressor rejects (damaged, or not compressed at all)."""

    error_type = "corrupt_file"


def _decompressed(fh: io.BufferedReader, make, name: str, errors: tuple[type[BaseException], ...]
                  ) -> Iterator[bytes]:
    """Decompress concatenated gzip members or zstd frames, yielding everything
    recoverable before reporting a truncated or corrupt stream.

    The input is fed in small pieces: a decompressor that fails on a piece gives
    nothing of it back, so damage costs at most the records of one piece.
    """
    obj = make()
    pending = b""
    saw_data = False
    while True:
        buf = pending or fh.read(_FEED)
        pending = b""
        if not buf:
            break
        saw_data = True
        try:
            out = obj.decompress(buf)
        except errors as e:
            raise CorruptStream(f"corrupt {name} stream ({e})") from e
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


def _lines(chunks: Iterator[bytes], max_line: int) -> Iterator[tuple[bytearray | None, int]]:
    """Split a byte stream into lines (without the newline).

    Yields ``(line, length)``; a line longer than ``max_line`` bytes is yielded
    as ``(None, length)`` without ever being held in memory in full. The yielded
    buffer is not copied and not used again here: the caller owns it (and may
    clear it to free the memory as soon as it has decoded it).
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
                line, buf = buf, bytearray()
                yield line, len(line)
                del line
            pos = nl + 1
    if overlong:
        yield None, overlong
    elif buf:
        yield buf, len(buf)


# --- decoding -----------------------------------------------------------------------------------


def decode_bytes(data: bytes | bytearray) -> tuple[str, tuple[str, ...]]:
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


_MAGIC = ((b"\x89PNG", "a PNG image"), (b"\x7fELF", "an ELF executable"), (b"GIF8", "a GIF image"),
          (b"\xff\xd8\xff", "a JPEG image"), (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "a gzip stream"),
          (b"\x28\xb5\x2f\xfd", "a zstd stream"), (b"PAR1", "a Parquet file"), (b"%PDF", "a PDF document"))


def looks_binary(data: bytes) -> str | None:
    """Why ``data`` is not text, or None. Looks at the first 8 KiB."""
    head = data[:8192]
    if not head:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if b"\x00" in head:
        why = "contains NUL bytes"
    else:
        ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
        if ctrl <= len(head) * 0.05:
            return None
        why = f"{ctrl} control bytes in the first {len(head)} bytes"
    kind = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    return f"binary file, not text: {why}" + (f"; it starts like {kind}" if kind else "")


_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def valid_text(s: str) -> str:
    """``s`` with lone surrogates (from JSON escapes such as ``"\\ud800"``) replaced by U+FFFD,
    so that it can be written as UTF-8."""
    return _LONE_SURROGATE_RE.sub("\ufffd", s) if not s.isascii() else s


def _snippet(data: bytes | bytearray | str) -> str:
    if isinstance(data, bytes | bytearray):
        data = bytes(data[: RAW_SNIPPET_CHARS * 4]).decode("utf-8", "replace")
    return valid_text(data[:RAW_SNIPPET_CHARS])


_JSON_TYPES = {"dict": "an object", "list": "an array", "str": "a string", "int": "a number",
               "float": "a number", "bool": "a boolean", "NoneType": "null"}


def _json_type(value: object) -> str:
    name = type(value).__name__
    return _JSON_TYPES.get(name, f"a {name}")


def _limit_note(max_chars: int) -> str:
    return f"read.max_document_chars = {max_chars:,} characters"


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
    """A parsed record as a document, or the quarantine record saying what is wrong with it.

    ``raw`` is (the start of) the record as read, kept in quarantine rows.
    """
    def snippet() -> str | None:  # made only for a record that goes to quarantine
        return _snippet(raw) if raw is not None else None

    what = "record" if f.kind != "csv" else "row"
    if not isinstance(rec, dict):
        return Quarantined(f.source, "not_an_object",
                           f"{what} is {_json_type(rec)}, not an object with a '{fields.text}' field",
                           pos_label, None, snippet())
    rid = rec.get(fields.id)
    doc_id = default_id if rid is None or rid == "" else valid_text(str(rid))
    text = rec.get(fields.text)
    if text is None:
        why = (f"{what} has no '{fields.text}' field" if fields.text not in rec
               else f"{what} has no value for '{fields.text}' (too few fields)" if f.kind == "csv"
               else f"field '{fields.text}' is null")
        return Quarantined(f.source, "missing_text", why, pos_label, doc_id, snippet())
    if not isinstance(text, str):
        return Quarantined(f.source, "bad_text_type",
                           f"field '{fields.text}' is {_json_type(text)}, expected a string",
                           pos_label, doc_id, snippet())
    if len(text) > max_chars:
        return Quarantined(f.source, "document_too_large",
                           f"text has {len(text):,} characters, more than {_limit_note(max_chars)}",
                           pos_label, doc_id, _snippet(text))
    url = rec.get(fields.url)
    meta = {k: v for k, v in rec.items() if k not in (fields.id, fields.text, fields.url)}
    if url is not None and not isinstance(url, str):
        meta[fields.url] = url
        url = None
    try:
        metadata = valid_text(json.dumps(meta, ensure_ascii=False, default=str)) if meta else None
    except RecursionError:
        return Quarantined(f.source, "malformed_json",
                           "the record's other fields are nested too deeply to be kept as metadata",
                           pos_label, doc_id, snippet())
    return RawDocument(doc_id, text, f.source, pos_label, _order(f, position), valid_text(url) if url else None,
                       metadata, decode_fixes)


def _read_txt(f: InputFile, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    yield _read_txt_file(f, max_chars)


def _read_txt_file(f: InputFile, max_chars: int) -> RawDocument | Quarantined:
    doc_id = f.doc_id or f.source
    limit = max_chars * 4  # bytes: a character takes at most 4 in UTF-8
    try:
        with open(f.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:  # too large to hold an acceptable document: only its start is read, for the snippet
                data = fh.read(RAW_SNIPPET_CHARS * 4)
            else:
                data = fh.read(size + 1)  # one byte more tells if the file grew since
                if len(data) > size:
                    data += fh.read(limit + 1 - len(data))
                    size = len(data) if len(data) <= limit else len(data) + len(fh.read(1 << 16))
    except OSError as e:
        return Quarantined(f.source, "unreadable_file", _describe(e), None, doc_id)
    if size > limit:
        return Quarantined(f.source, "document_too_large",
                           f"file has {size:,} bytes, more than the {limit:,} bytes that can hold a document "
                           f"within {_limit_note(max_chars)}", None, doc_id, _snippet(data))
    why = looks_binary(data)
    if why:
        return Quarantined(f.source, "binary_file", why, None, doc_id, None)
    text, fixes = decode_bytes(data)
    del data
    if len(text) > max_chars:
        return Quarantined(f.source, "document_too_large",
                           f"text has {len(text):,} characters, more than {_limit_note(max_chars)}",
                           None, doc_id, _snippet(text))
    return RawDocument(doc_id, text, f.source, f.source, _order(f, 0), None, None, fixes)


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
                                      f"line of {length:,} bytes is longer than the {max_line:,}-byte limit for "
                                      f"one record (from {_limit_note(max_chars)}); it was not parsed", pos)
                    continue
                if not raw or raw.isspace():
                    continue  # blank lines separate nothing in JSONL
                parsed = _parse_json_line(raw, f, pos)
                del raw
                if isinstance(parsed, Quarantined):
                    yield parsed
                    continue
                rec, fixes, snippet = parsed
                del parsed
                yield _from_record(rec, f, pos, line_no, fields, max_chars, fixes, snippet,
                                   f"{f.source}:{line_no}")
                del rec
        except TruncatedStream as e:
            lost = f"records after line {line_no} are lost" if line_no else "no record could be read"
            yield Quarantined(f.source, e.error_type, f"{e}; {lost}", f"{f.source}:{line_no + 1}")
        except OSError as e:
            yield Quarantined(f.source, "unreadable_file", f"{_describe(e)} after line {line_no}",
                              f"{f.source}:{line_no + 1}")


def _parse_json_line(raw: bytearray, f: InputFile, pos: str
                     ) -> tuple[object, tuple[str, ...], bytes] | Quarantined:
    """Decode and parse one JSONL line: (record, decoding fixes, the line's first bytes) or why it failed.

    ``raw`` is cleared once decoded, so a long line is held about twice at most
    (as bytes or as text, then as text and as the parsed record), not four times.
    """
    snippet = bytes(raw[: RAW_SNIPPET_CHARS * 4])
    line, fixes = decode_bytes(raw)
    raw.clear()
    try:
        return json.loads(line), fixes, snippet
    except json.JSONDecodeError as e:
        where = f"{'' if e.msg.endswith(' at') else ' at'} character {e.pos + 1}"
        return Quarantined(f.source, "malformed_json", f"not valid JSON: {e.msg}{where}",
                           pos, None, _snippet(snippet))
    except ValueError as e:  # e.g. an integer too long to convert
        return Quarantined(f.source, "malformed_json", f"not valid JSON: {e}", pos, None, _snippet(snippet))
    except RecursionError:
        return Quarantined(f.source, "malformed_json",
                           "not valid JSON for this reader: arrays or objects nested too deeply to parse",
                           pos, None, _snippet(snippet))


class _LineTooLong(Exception):
    """A line of a CSV file is longer than the limit for one record."""


_LONE_CR_RE = re.compile(r"(?<=\r)(?!\n)")


class _CsvLines:
    """The decoded lines of a CSV stream, for :mod:`csv`: each line is decoded on its own like a JSONL
    line (invalid UTF-8 as Windows-1252), and the fixes of the lines a row was read from are collected."""

    def __init__(self, chunks: Iterator[bytes], max_line: int):
        self._lines = _lines(chunks, max_line)
        self.max_line = max_line
        self.line_no = 0
        self.fixes: set[str] = set()

    def __iter__(self) -> Iterator[str]:
        for raw, length in self._lines:
            self.line_no += 1
            if raw is None:
                raise _LineTooLong(f"line {self.line_no} has {length:,} bytes, more than the "
                                   f"{self.max_line:,}-byte limit for one record")
            text, fixes = decode_bytes(raw)
            raw.clear()
            self.fixes.update(fixes)
            text += "\n"
            if "\r" in text[:-2]:  # old Mac line ends (a lone CR): one line each, as csv expects
                yield from _LONE_CR_RE.split(text)
            else:
                yield text

    def take_fixes(self) -> tuple[str, ...]:
        fixes, self.fixes = tuple(sorted(self.fixes)), set()
        return fixes


def _read_csv(shard: Shard, fields: Fields, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    f = shard.files[0]
    fh = _open_input(f)
    if isinstance(fh, Quarantined):
        yield fh
        return
    with fh:
        row_no = 0
        lines = _CsvLines(_open_chunks(f, fh, 0, None), max_chars * 4 + 1024)
        try:
            csv.field_size_limit(max_chars * 4)
            reader = csv.DictReader(lines)
            if reader.fieldnames is None:
                yield Quarantined(f.source, "missing_column", "the file is empty: no CSV header row, no rows")
                return
            if fields.text not in reader.fieldnames:
                yield Quarantined(f.source, "missing_column",
                                  f"CSV header has no '{fields.text}' column, so none of its rows was read",
                                  None, None, valid_text(",".join(reader.fieldnames))[:RAW_SNIPPET_CHARS])
                return
            lines.take_fixes()
            for row in reader:
                row_no += 1
                pos = f"{f.source}#row={row_no}"
                yield _from_record(row, f, pos, row_no, fields, max_chars, lines.take_fixes(), None, pos)
        except TruncatedStream as e:
            yield Quarantined(f.source, e.error_type, f"{e}; rows after row {row_no} are lost",
                              f"{f.source}#row={row_no + 1}")
        except _LineTooLong as e:
            yield Quarantined(f.source, "record_too_large",
                              f"{e} (from {_limit_note(max_chars)}); rows after row {row_no} were not read",
                              f"{f.source}#row={row_no + 1}")
        except csv.Error as e:
            yield Quarantined(f.source, "malformed_csv",
                              f"{_describe(e)} in the row after row {row_no}; the rest of the file was not read",
                              f"{f.source}#row={row_no + 1}")
        except OSError as e:
            yield Quarantined(f.source, "unreadable_file", f"{_describe(e)} after row {row_no}",
                              f"{f.source}#row={row_no + 1}")


def _read_parquet(shard: Shard, fields: Fields, max_chars: int) -> Iterator[RawDocument | Quarantined]:
    import pyarrow.parquet as pq

    f = shard.files[0]
    try:
        pf = pq.ParquetFile(f.path)
    except Exception as e:  # noqa: BLE001
        yield Quarantined(f.source, "unreadable_parquet", f"not a readable Parquet file ({_describe(e)})")
        return
    names = pf.schema_arrow.names
    if fields.text not in names:
        yield Quarantined(f.source, "missing_column",
                          f"Parquet file has no '{fields.text}' column (columns: {', '.join(names)[:500]}), "
                          f"so none of its {pf.metadata.num_rows:,} rows was read")
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


