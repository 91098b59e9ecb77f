"""Arrow schemas of every dataset scrapewash writes, with their versions.

These are the data contract with downstream users (see DESIGN.md, "Output layout").
Change a schema only by adding columns, and bump its version when you do. The
version is stored in each Parquet file's key-value metadata under
``scrapewash.schema`` / ``scrapewash.schema_version``.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_METADATA_KEY = b"scrapewash.schema"
SCHEMA_VERSION_KEY = b"scrapewash.schema_version"

DOCUMENTS_VERSION = 2  # 2: `title`
REMOVED_VERSION = 1
QUARANTINE_VERSION = 1
STAGED_VERSION = 4

#: Reasons a paragraph, fragment or document can be removed for.
REASONS = (
    "boilerplate",  # a rule of a rule pack matched; `rule` names it
    "site_template",  # recurs across many pages of one site
    "repeated_paragraph",  # repeats an earlier paragraph of the same document
    "low_content",  # the line model scored it as navigation/furniture; `rule` names the model
    "duplicate_paragraph",  # repeats a paragraph of another document
    "near_duplicate_document",  # the whole document is a near-copy of another
    "empty_document",  # nothing left (or nothing there) after cleaning
    "title",  # the page's title line, moved from the text to the documents' `title` column
)

#: What a removal row covers.
PARTS = ("paragraph", "fragment", "document")

_ts = pa.timestamp("us", tz="UTC")

DOCUMENTS = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("n_paragraphs", pa.int32(), nullable=False),
        pa.field("n_removed_paragraphs", pa.int32(), nullable=False),
        pa.field("encoding_fixes", pa.list_(pa.string()), nullable=False),
        pa.field("duplicates", pa.int32(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("processed_at", _ts, nullable=False),
        pa.field("metadata", pa.string()),  # JSON object of unmapped input fields
        pa.field("n_chars", pa.int64(), nullable=False),
        pa.field("input_position", pa.string(), nullable=False),  # file:line / file:row
        pa.field("title", pa.string()),  # the page's title line, moved out of `text` (version 2)
    ]
)

REMOVED = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("paragraph_index", pa.int32()),  # null for a whole document
        pa.field("text", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("rule", pa.string()),  # rule id, for boilerplate
        pa.field("duplicate_of", pa.string()),  # doc_id kept instead, for duplicates
        pa.field("similarity", pa.float32()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("part", pa.string(), nullable=False),  # paragraph | fragment | document
        pa.field("n_paragraphs", pa.int32(), nullable=False),  # input paragraphs this row accounts for
        pa.field("duplicate_of_paragraph", pa.int32()),  # for repeated/duplicate paragraphs
        pa.field("detail", pa.string()),  # human-readable explanation
        pa.field("source", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("processed_at", _ts, nullable=False),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("position", pa.string()),  # line number / row / byte offset, when known
        pa.field("doc_id", pa.string()),
        pa.field("error_type", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("raw", pa.string()),  # the offending record, truncated, when there is one
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("processed_at", _ts, nullable=False),
    ]
)

#: Schema versions by dataset name, recorded in each run manifest.
VERSIONS = {
    "documents": DOCUMENTS_VERSION,
    "removed": REMOVED_VERSION,
    "quarantine": QUARANTINE_VERSION,
}

#: Public datasets by name.
SCHEMAS = {
    "documents": DOCUMENTS,
    "removed": REMOVED,
    "quarantine": QUARANTINE,
}


def with_version(schema: pa.Schema, name: str, version: int) -> pa.Schema:
    """Return ``schema`` with its name and version in the key-value metadata."""
    meta = dict(schema.metadata or {})
    meta[SCHEMA_METADATA_KEY] = name.encode()
    meta[SCHEMA_VERSION_KEY] = str(version).encode()
    return schema.with_metadata(meta)


def versioned(name: str) -> pa.Schema:
    """The public schema ``name`` with its version stored in the metadata."""
    return with_version(SCHEMAS[name], name, VERSIONS[name])


def staged_schema() -> pa.Schema:
    """Schema of the intermediate per-shard files: documents after per-document cleaning,
    before the corpus-wide decisions (templates, duplicates). Not a public contract."""
    return with_version(
        pa.schema(
            [
                pa.field("order", pa.int64(), nullable=False),
                pa.field("doc_id", pa.string(), nullable=False),
                pa.field("url", pa.string()),
                pa.field("source", pa.string(), nullable=False),
                pa.field("input_position", pa.string(), nullable=False),
                pa.field("site", pa.string(), nullable=False),
                pa.field("paragraphs", pa.list_(pa.string()), nullable=False),  # kept so far
                pa.field("pindex", pa.list_(pa.int32()), nullable=False),  # their input indexes
                pa.field("tkeys", pa.list_(pa.uint64()), nullable=False),  # their template keys
                pa.field("twords", pa.list_(pa.int32()), nullable=False),  # their word counts
                pa.field("phash", pa.list_(pa.uint64()), nullable=False),  # their exact-match key hashes
                # template keys and word counts of the lines the line model removed: still evidence
                # of the site's template when the corpus is counted
                pa.field("xkeys", pa.list_(pa.uint64()), nullable=False),
                pa.field("xwords", pa.list_(pa.int32()), nullable=False),
                pa.field("n_removed_paragraphs", pa.int32(), nullable=False),
                pa.field("encoding_fixes", pa.list_(pa.string()), nullable=False),
                pa.field("metadata", pa.string()),
                pa.field("title", pa.string()),
            ]
        ),
        "staged",
        STAGED_VERSION,
    )


def signed_schema(num_perm: int) -> pa.Schema:
    """Schema of the per-shard signature files (after site templates are removed)."""
    return with_version(
        pa.schema(
            [
                pa.field("order", pa.int64(), nullable=False),
                pa.field("doc_id", pa.string(), nullable=False),
                pa.field("text", pa.string(), nullable=False),
                pa.field("n_words", pa.int32(), nullable=False),
                pa.field("signature", pa.list_(pa.uint32(), num_perm)),  # null: too short to sign
                pa.field("phash", pa.list_(pa.uint64()), nullable=False),  # exact keys of judged paragraphs
                pa.field("pindex", pa.list_(pa.int32()), nullable=False),  # their input indexes
                pa.field("pnear", pa.list_(pa.int32()), nullable=False),  # paragraphs judged as near copies
                pa.field("pkeys", pa.list_(pa.uint64()), nullable=False),  # their band keys, 16 per paragraph
            ]
        ),
        "signed",
        STAGED_VERSION,
    )


def staged_removed_schema() -> pa.Schema:
    """Schema of the per-shard removal files before the final sort (public columns + order)."""
    return with_version(REMOVED.append(pa.field("order", pa.int64(), nullable=False)), "staged_removed",
                        STAGED_VERSION)
