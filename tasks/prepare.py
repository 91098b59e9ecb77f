"""Stage 1, per shard: read → repair → paragraphs → rules → in-document repeats.

Writes three files under the run's staging folder and returns only a small
dict of counts:

* ``prepared/shard-NNNNN.parquet``: the cleaned documents as paragraphs, with
  their site and template keys, waiting for the corpus-wide decisions;
* ``premoved/shard-NNNNN.parquet``: the paragraph and fragment removals (final
  already; sorted and merged with the corpus-wide removals when the shard is finalized);
* ``quarantine/part-NNNNN.parquet``: records of this shard that could not be read.
"""

from __future__ import annotations

import operator
import time
from collections import Counter
from datetime import datetime
from typing import Any

import pyarrow as pa

from scrapewash import schemas
from scrapewash.config import Config
from scrapewash.records import Quarantined, Removal
from scrapewash.tasks import minhash, repeats, templates
from scrapewash.tasks.clean import Cleaner
from scrapewash.tasks.read import Fields, Shard, read_shard
from scrapewash.tasks.write import INTERMEDIATE_COMPRESSION, INTERMEDIATE_LEVEL, ParquetSink, RunPaths

#: The columns of a removal row that are the :class:`Removal`'s own fields (the rest say where the
#: document came from and which run removed it).
REMOVAL_FIELDS = ("doc_id", "paragraph_index", "text", "reason", "rule", "duplicate_of", "similarity", "part",
                  "n_paragraphs", "duplicate_of_paragraph", "detail")
_fields_of = operator.attrgetter(*REMOVAL_FIELDS)  # a removal's REMOVAL_FIELDS as a tuple, in C


def removal_row(r: Removal, *, source: str, url: str | None, run_id: str, processed_at: datetime,
                order: int | None = None) -> dict[str, Any]:
    row = dict(zip(REMOVAL_FIELDS, _fields_of(r), strict=True))
    row.update(run_id=run_id, source=source, url=url, processed_at=processed_at)
    if order is not None:
        row["order"] = order
    return row


class RemovalColumns:
    """A shard's removal rows gathered column by column, a document's rows at once, and written to
    ``sink`` in row groups of about its ``row_group_bytes``: the same rows as :func:`removal_row`
    makes (tested), without a dict per row and a look-up per row and column, which cost about a
    tenth of the prepare stage on pages with many removals."""

    _TEXT = REMOVAL_FIELDS.index("text")

    def __init__(self, sink: ParquetSink, run_id: str, processed_at: datetime):
        self.sink = sink
        self.run_id = run_id
        self.processed_at = processed_at
        self._reset()

    def _reset(self) -> None:
        self._columns: list[list[Any]] = [[] for _ in REMOVAL_FIELDS]
        self._source: list[str] = []
        self._url: list[str | None] = []
        self._order: list[int] = []
        self._bytes = 0

    def add(self, removals: list[Removal], *, source: str, url: str | None, order: int) -> None:
        """Buffer one document's removals (in their order)."""
        n = len(removals)
        if not n:
            return
        for column, values in zip(self._columns, zip(*map(_fields_of, removals), strict=True), strict=True):
            column.extend(values)
        self._source.extend([source] * n)
        self._url.extend([url] * n)
        self._order.extend([order] * n)
        self._bytes += sum(map(len, self._columns[self._TEXT][-n:])) + 200 * n
        if self._bytes >= self.sink.row_group_bytes:
            self.flush()

    def table(self) -> pa.Table:
        """The buffered rows as a table of the sink's schema."""
        schema = self.sink.schema
        n = len(self._order)
        given = dict(zip(REMOVAL_FIELDS, self._columns, strict=True))
        given.update(source=self._source, url=self._url, order=self._order)
        arrays = []
        for f in schema:
            if f.name == "run_id":
                arrays.append(pa.repeat(pa.scalar(self.run_id, f.type), n))
            elif f.name == "processed_at":
                arrays.append(pa.repeat(pa.scalar(self.processed_at, f.type), n))
            else:
                arrays.append(pa.array(given[f.name], f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def flush(self) -> None:
        if self._order:
            self.sink.write_table(self.table())
        self._reset()


def title_note(found: str | None) -> str:
    """What a removed document's row says of its title, which the ``title`` row says was moved to the
    title column: it goes with the document (shortened to 100 characters)."""
    if not found:
        return ""
    shown = found if len(found) <= 100 else found[:99] + "…"
    return f"; its title goes with it: {shown!r}"


def quarantine_row(q: Quarantined, run_id: str, processed_at: datetime) -> dict[str, Any]:
    return {
        "source": q.source, "position": q.position, "doc_id": q.doc_id, "error_type": q.error_type,
        "error": q.error, "raw": q.raw, "run_id": run_id, "processed_at": processed_at,
    }


def _sink(paths: RunPaths, sub: str, name: str, schema, config: Config, intermediate: bool = True) -> ParquetSink:
    o = config.output
    if intermediate:
        return ParquetSink(paths.staging / sub / name, schema, INTERMEDIATE_COMPRESSION, INTERMEDIATE_LEVEL,
                           o.row_group_bytes)
    return ParquetSink(paths.staging / sub / name, schema, o.compression, o.compression_level, o.row_group_bytes)


def prepare_shard(shard: Shard, paths: RunPaths, config: Config, processed_at: datetime) -> dict[str, Any]:
    """Clean one shard into the staging folder; return its counts."""
    t0 = time.perf_counter()
    run_id = paths.run_id
    cleaner = Cleaner(config)
    fields = Fields(config.read.text_field, config.read.id_field, config.read.url_field)
    name = f"shard-{shard.index:05d}.parquet"
    stats: dict[str, Any] = {
        "shard": shard.index, "label": shard.label, "bytes_in": shard.size_bytes, "docs_in": 0,
        "docs_staged": 0, "quarantined": 0, "chars_in": 0, "paragraphs_in": 0,
        "removed_paragraphs": Counter(), "removed_fragments": Counter(), "removed_documents": Counter(),
        "rules": Counter(), "encoding_fixes": Counter(), "docs_with_fixes": 0, "quarantine_errors": Counter(),
    }
    docs = _sink(paths, "prepared", name, schemas.staged_schema(), config)
    removed = _sink(paths, "premoved", name, schemas.staged_removed_schema(), config)
    quarantine = _sink(paths, "quarantine", f"part-{shard.index:05d}.parquet", schemas.versioned("quarantine"),
                       config, intermediate=False)  # committed as it is
    with docs, removed, quarantine:
        removal_rows = RemovalColumns(removed, run_id, processed_at)
        for rec in read_shard(shard, fields, config.read.max_document_chars):
            if isinstance(rec, Quarantined):
                stats["quarantined"] += 1
                stats["quarantine_errors"][rec.error_type] += 1
                quarantine.add(quarantine_row(rec, run_id, processed_at), len(rec.raw or "") + 200)
                continue
            stats["docs_in"] += 1
            stats["chars_in"] += len(rec.text)
            doc = cleaner.clean(rec)
            stats["paragraphs_in"] += doc.n_input_paragraphs
            if doc.encoding_fixes:
                stats["docs_with_fixes"] += 1
                stats["encoding_fixes"].update(doc.encoding_fixes)
            if doc.removals:  # counted in C (Counter.update of a list)
                stats["removed_paragraphs"].update([r.reason for r in doc.removals if r.part != "fragment"])
                stats["removed_fragments"].update([r.reason for r in doc.removals if r.part == "fragment"])
                stats["rules"].update([r.rule for r in doc.removals if r.rule])
            removal_rows.add(doc.removals, source=rec.source, url=rec.url, order=rec.order)
            model_removed = [r for r in doc.removals if r.reason == "low_content"]
            removed_texts = [r.text for r in model_removed]
            if not doc.paragraphs:
                why = ("no text in the input" if doc.n_input_paragraphs == 0
                       else f"all {doc.n_input_paragraphs} paragraphs were removed") + title_note(doc.title)
                stats["removed_documents"]["empty_document"] += 1
                removal_rows.add([Removal(rec.doc_id, None, "", "empty_document", "document", 0, detail=why)],
                                 source=rec.source, url=rec.url, order=rec.order)
                continue
            stats["docs_staged"] += 1
            docs.add({
                "order": rec.order, "doc_id": rec.doc_id, "url": rec.url, "source": rec.source,
                "input_position": rec.input_position, "site": templates.site_of(rec.url, rec.source),
                "paragraphs": doc.paragraphs, "pindex": doc.kept_indexes,
                "tkeys": templates.keys_of_forms(doc.paragraphs, doc.kept_indexes, doc.forms),
                "twords": minhash.word_counts(doc.paragraphs),
                "phash": repeats.kept_hashes(doc.paragraphs, doc.kept_indexes, doc.keys),
                "xkeys": templates.keys_of_forms(removed_texts, [r.paragraph_index for r in model_removed],
                                                 doc.forms),
                "xwords": minhash.word_counts(removed_texts),
                "n_removed_paragraphs": doc.n_removed_paragraphs, "encoding_fixes": doc.encoding_fixes,
                "metadata": rec.metadata, "title": doc.title,
            }, sum(len(p) for p in doc.paragraphs) + len(doc.title or "") + 600)
        removal_rows.flush()
    stats["seconds"] = time.perf_counter() - t0
    return _plain(stats)


def _plain(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (dict(sorted(v.items())) if isinstance(v, Counter) else v) for k, v in stats.items()}
