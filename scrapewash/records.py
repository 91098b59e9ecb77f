"""The one definition of what flows through the pipeline.

A :class:`RawDocument` is what a reader yields; a :class:`Quarantined` record is
what it yields instead when an input cannot be read. Cleaning turns a raw
document into a :class:`CleanDocument` plus the :class:`Removal` values that
explain everything that was taken out of it. A removal is produced where the
decision is made and carries its reason, rule and match.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class RawDocument:
    doc_id: str
    text: str
    source: str  # input file
    input_position: str  # human-readable place in the input (file, file:line, file#row=n)
    order: int  # global input order key: (file index << 40) | position within file
    url: str | None = None
    metadata: str | None = None  # JSON object of the input fields not otherwise mapped
    decode_fixes: tuple[str, ...] = ()  # byte-level fixes applied while decoding


@dataclass(slots=True)
class Quarantined:
    source: str
    error_type: str
    error: str
    position: str | None = None
    doc_id: str | None = None
    raw: str | None = None


@dataclass(slots=True)
class Removal:
    doc_id: str
    paragraph_index: int | None
    text: str
    reason: str
    part: str  # "paragraph" | "fragment" | "document"
    n_paragraphs: int  # input paragraphs this removal accounts for
    rule: str | None = None
    duplicate_of: str | None = None
    duplicate_of_paragraph: int | None = None
    similarity: float | None = None
    detail: str | None = None


@dataclass(slots=True)
class CleanDocument:
    raw: RawDocument
    paragraphs: list[str]  # kept paragraphs, in order
    kept_indexes: list[int]  # their indexes among the input paragraphs
    n_input_paragraphs: int
    encoding_fixes: list[str]
    removals: list[Removal] = field(default_factory=list)
    blocks: list[int] | None = None  # block number of every input paragraph (blank-line separated)
    # The template form (UTF-8) of each paragraph that reached the in-page repeats, by input index,
    # made by the compiled forms pass (:func:`scrapewash.tasks.forms.keys_and_forms`); None where
    # that pass was not run, and a paragraph it could not read is missing.
    forms: dict[int, bytes] | None = None
    title: str | None = None  # the page's title line, moved out of the text (a "title" removal)
    # The exact-match key (UTF-8, :func:`scrapewash.tasks.repeats.exact_keys`) of each paragraph that
    # reached the in-page repeats, by input index; None where the keys were not made.
    keys: dict[int, bytes] | None = None

    @property
    def n_removed_paragraphs(self) -> int:
        return sum(r.n_paragraphs for r in self.removals if r.part == "paragraph")
