"""Run configuration: one Pydantic model, loadable from a TOML or JSON file.

Every field has a description, so the Prefect UI's run form and ``scrapewash
run --help-config`` explain themselves. Defaults are the measured choices
documented in README.md ("How cleaning works").
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadConfig(_Section):
    docs_per_shard: int = Field(
        5000, ge=1, description="Documents per shard for folders of .txt files and Parquet row groups."
    )
    bytes_per_shard: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Uncompressed JSONL files larger than this are split into shards of about this size.",
    )
    max_document_chars: int = Field(
        5_000_000,
        ge=1000,
        description="Documents longer than this (in characters) are quarantined instead of cleaned.",
    )
    text_field: str = Field("text", description="Field holding the document text in JSONL and Parquet.")
    id_field: str = Field("id", description="Field holding the document id in JSONL and Parquet.")
    url_field: str = Field("url", description="Field holding the page URL in JSONL and Parquet.")
    title_field: str = Field(
        "title",
        description="Field holding the page's title in JSONL and Parquet, if the input has one (it stays in "
        "`metadata` too): it is the documents' `title`, and the line of the text that repeats it is moved there.",
    )


class EncodingConfig(_Section):
    enabled: bool = Field(True, description="Repair encoding with ftfy and normalise whitespace.")
    unescape_html: bool = Field(
        True, description="Decode HTML entities such as &amp; (inputs are extracted text, not HTML)."
    )
    uncurl_quotes: bool = Field(
        False, description="Replace curly quotes with straight ones (off: keep the publisher's typography)."
    )
    fix_latin_ligatures: bool = Field(True, description="Replace ligature characters such as 'ﬁ' by 'fi'.")
    fix_character_width: bool = Field(
        False, description="Fold full-width Latin to ASCII (off: it also rewrites CJK full-width punctuation)."
    )
    normalization: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = Field(
        "NFC", description="Unicode normalisation form applied by ftfy (NFC keeps every character's meaning)."
    )


class BoilerplateConfig(_Section):
    enabled: bool = Field(True, description="Remove boilerplate paragraphs with the rule packs.")
    packs: list[str] | None = Field(
        None, description="Rule packs to use (default: all bundled packs)."
    )
    disable_rules: list[str] = Field(default_factory=list, description="Rule ids to switch off.")
    extra_rule_dirs: list[str] = Field(
        default_factory=list, description="Folders with additional rule pack .toml files."
    )
    edge_paragraphs: int = Field(
        5, ge=0, description="How many paragraphs at the head and at the tail count as the page's edges."
    )
    min_rest_words: int = Field(
        8, ge=1, description="A prefix/suffix rule strips a fragment only if this many words remain."
    )


class RepeatsConfig(_Section):
    enabled: bool = Field(True, description="Remove paragraphs that repeat an earlier one in the same document.")
    min_words: int = Field(
        1, ge=1, description="Paragraphs shorter than this (in words) are never removed as repeats."
    )
    scope: Literal["any", "copies"] = Field(
        "copies",
        description="'any': remove every repeat; 'copies': only repeated blocks, immediate repeats and "
        "repeats in the page head (keeps a question asked of every interviewee).",
    )
    min_block: int = Field(
        2, ge=2, description="With scope 'copies': how many consecutive paragraphs, repeated in the same "
        "order, make a copied block.",
    )
    near: bool = Field(True, description="Also remove near-exact repeats (MinHash on word shingles).")
    near_threshold: float = Field(
        0.8, gt=0, le=1, description="Jaccard similarity from which a paragraph counts as a near repeat."
    )
    near_min_words: int = Field(
        8, ge=2, description="Paragraphs of fewer tokens (words; in Chinese, Japanese and Thai, characters) "
        "are only compared exactly."
    )


class ContentConfig(_Section):
    enabled: bool = Field(
        True,
        description="Judge each remaining line by its position and context (navigation runs, page head "
        "and tail, short lines far from the body) with the bundled line model.",
    )
    model: str = Field("content-v6", description="Line model: a bundled name or a path to a model .json.")
    threshold: float | None = Field(
        None, ge=0, le=1,
        description="Lines scored below this are removed (default: the model's measured threshold).",
    )
    protect_words: int = Field(
        40, ge=1, description="Lines with at least this many words are never removed by the line model."
    )
    keep_headline: bool = Field(
        True,
        description="Never let the line model remove the headline (the title-like line just before the body).",
    )
    keep_lead_in: bool = Field(
        True,
        description="Never let the line model remove a line that runs on, in the same block, into a protected "
        "long line (the first line of a hard-wrapped paragraph, a sub-heading set on the paragraph).",
    )
    empty_pages: bool = Field(
        True,
        description="Let the line model empty a page: when it scores every line it judges below the threshold "
        "and no line is protected, they all go as low_content, with the title line that would be left alone, "
        "and the document counts as empty. False: such a page is kept whole.",
    )
    keep_list_items: bool = Field(
        True,
        description="Never let the line model remove a list item ('- ', '* ', '1. ') between two list items "
        "that stay: a list is not cut in its middle.",
    )


class TitleConfig(_Section):
    enabled: bool = Field(
        True,
        description="Find each page's title line (the line before the body that the URL's words spell, or, "
        "for a document without a URL, the heading right above the body) and move it from the text to the "
        "documents' `title` column; the removed table records it with reason 'title'.",
    )


class TemplatesConfig(_Section):
    enabled: bool = Field(True, description="Learn each site's template paragraphs from the corpus and remove them.")
    min_docs: int = Field(
        3, ge=2,
        description="A paragraph (case, digits, dates and punctuation folded) on at least this many pages "
        "of one site is template.",
    )
    min_docs_short: int = Field(
        2, ge=2, description="The same for short paragraphs (fewer than short_words words): menus, site names."
    )
    short_words: int = Field(10, ge=1, description="Paragraphs under this many words count as short.")
    embedded_run: int = Field(
        5, ge=0,
        description="A run of at most this many template paragraphs between two kept paragraphs of the page "
        "is the page's own recurring text (a 'Pros' heading, a line of code), not template, and stays (0: off; "
        "0, 1, 2, 3, 5 and 8 measured on the dev sets: better up to 5, level from there).",
    )


class ParagraphDedupConfig(_Section):
    enabled: bool = Field(
        True, description="Remove paragraphs that repeat a paragraph of an earlier document (first copy kept)."
    )
    min_words: int = Field(
        4, ge=1,
        description="Paragraphs shorter than this (in words) are too short to judge across documents "
        "(measured on the dev sets: 4 beats 8 and 16 on raw page dumps and ties on extractor output).",
    )
    near: bool = Field(
        True, description="After the exact pass, also remove paragraphs that nearly repeat (MinHash, verified "
        "Jaccard of word shingles) a paragraph of an earlier document.",
    )
    near_min_words: int = Field(
        15, ge=3,
        description="Paragraphs shorter than this (in words) are too short to judge as near copies "
        "(measured on the dev sets: 8, 15 and 25 give the same F1; 15 is the cautious choice).",
    )
    near_threshold: float = Field(
        0.7, gt=0, le=1, description="Verified Jaccard similarity of word shingles from which two paragraphs "
        "are near copies.",
    )
    near_shingle_words: int = Field(3, ge=1, le=8, description="Word n-gram size of the paragraph shingles.")
    near_min_bands: int = Field(
        1, ge=1, le=16,
        description="Candidate pairs must share this many of the 16 LSH bands before their texts are read "
        "and compared (1: any band, the default). 2 is for large corpora: on 1 GB of generated news it "
        "found the same 711 pairs while comparing 14,953 candidates instead of 1,032,818 (the stage took "
        "4-5 s instead of 7-8), but a pair at the 0.7 threshold is then a candidate 92.5 % of the time "
        "instead of 98.8 % (at 0.8: 99.7 % instead of 99.98 %), and wcxb-dev's page dumps lose one pair "
        "at Jaccard 0.70.",
    )


class DedupConfig(_Section):
    enabled: bool = Field(True, description="Remove near-duplicate documents across the corpus.")
    shingle_words: int = Field(3, ge=1, le=16, description="Word n-gram size of the document shingles.")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations.")
    bands: int = Field(32, ge=1, description="LSH bands (bands x rows must equal num_perm).")
    rows: int = Field(4, ge=1, description="Rows per LSH band.")
    threshold: float = Field(
        0.7, gt=0, le=1, description="Verified Jaccard similarity from which two documents are duplicates."
    )
    verify: Literal["estimate", "exact"] = Field(
        "exact",
        description="How candidate pairs are verified: MinHash estimate, or exact Jaccard of the shingle sets.",
    )
    min_words: int = Field(
        20, ge=1, description="Documents with fewer tokens than this are not compared (too short to judge). "
        "A token is a word; in Chinese, Japanese and Thai, a character."
    )
    keep: Literal["first", "longest"] = Field(
        "first",
        description="Which copy survives: 'first' in input order, or 'longest' text (ties: input order).",
    )
    seed: int = Field(1, description="MinHash seed (datasketch's default is 1).")
    across_runs: bool = Field(
        True,
        description="Also deduplicate against what earlier runs of this output root kept (documents by MinHash, "
                    "paragraphs by exact key, site-template page counts), reading only the dedup index in _index/.",
    )

    @model_validator(mode="after")
    def _bands_rows(self) -> DedupConfig:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(
                f"bands x rows must equal num_perm: {self.bands} x {self.rows} != {self.num_perm}"
            )
        return self


class OutputConfig(_Section):
    compression: Literal["zstd", "snappy", "gzip", "none"] = Field("zstd", description="Parquet compression.")
    compression_level: int | None = Field(3, description="Compression level (zstd: 1-22).")
    row_group_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Target uncompressed size of a Parquet row group."
    )


class Config(_Section):
    """Everything a run of clean-corpus can be told."""

    workers: int = Field(
        2, ge=1, le=256,
        description="Shard tasks run at once: worker processes on this machine (the default runner for more "
        "than one), threads, or processes of a local Dask cluster.",
    )
    read: ReadConfig = Field(default_factory=ReadConfig)
    encoding: EncodingConfig = Field(default_factory=EncodingConfig)
    boilerplate: BoilerplateConfig = Field(default_factory=BoilerplateConfig)
    repeats: RepeatsConfig = Field(default_factory=RepeatsConfig)
    content: ContentConfig = Field(default_factory=ContentConfig)
    title: TitleConfig = Field(default_factory=TitleConfig)
    templates: TemplatesConfig = Field(default_factory=TemplatesConfig)
    paragraph_dedup: ParagraphDedupConfig = Field(default_factory=ParagraphDedupConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @classmethod
    def load(cls, path: str | Path | None) -> Config:
        """Load a config file (.toml or .json); ``None`` gives the defaults."""
        if path is None:
            return cls()
        p = Path(path)
        raw = p.read_bytes()
        if p.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
        return cls.model_validate(data)

    def fingerprint(self) -> str:
        """A short stable hash of the configuration (recorded in manifests)."""
        import hashlib

        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.blake2b(blob, digest_size=8).hexdigest()


class RunParameters(BaseModel):
    """The parameters of one ``clean-corpus`` flow run (the Prefect UI's run form shows these)."""

    model_config = ConfigDict(extra="forbid")

    inputs: list[str] = Field(
        ..., min_length=1,
        description="Input files, folders or glob patterns (e.g. /data/landing or /data/landing/**/*.jsonl.gz): "
                    ".txt, .jsonl[.gz|.zst], .csv[.gz|.zst], .parquet. Folders are walked in sorted order.",
    )
    out: str = Field("output", description="Output root: documents/, removed/, quarantine/ and _runs/ go here.")
    reprocess: bool = Field(
        False,
        description="Read the inputs again even if an earlier committed run of this output root read them "
                    "(same path, size and modification time, or same content). Earlier runs whose inputs are all "
                    "read again are superseded: their partitions move to _superseded/. Use it when rules change.",
    )
    settle_seconds: float = Field(
        0, ge=0,
        description="Leave files modified less than this many seconds ago for the next run (they may still be "
                    "being written into the landing folder).",
    )
    config: Config = Field(default_factory=Config, description="Cleaning configuration (rules, dedup, output).")
    run_id: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="Run id (default: the start time and a random suffix). Names the run's partitions.",
    )
