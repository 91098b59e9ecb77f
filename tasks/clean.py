"""Cleaning one document: repair → paragraphs → boilerplate rules → in-document repeats → line model.

:class:`Cleaner` holds what the stages need (configuration, compiled rules) and
turns a :class:`~scrapewash.records.RawDocument` into a
:class:`~scrapewash.records.CleanDocument` with every removal explained.
"""

from __future__ import annotations

from scrapewash.config import Config
from scrapewash.records import CleanDocument, RawDocument, Removal
from scrapewash.tasks import boilerplate, content, encoding, forms, repeats, title


class Cleaner:
    def __init__(self, config: Config):
        self.config = config
        b = config.boilerplate
        self.rules = boilerplate.rules_for(b) if b.enabled else None
        c = config.content
        self.model = content.load_model(c.model) if c.enabled else None
        self.threshold = (c.threshold if c.threshold is not None
                          else self.model.default_threshold if self.model else 0.5)

    def clean(self, raw: RawDocument) -> CleanDocument:
        text, fixes = encoding.repair(raw.text, self.config.encoding, raw.decode_fixes)
        paragraphs, blocks = encoding.split_blocks(text)
        current: list[str | None] = list(paragraphs)
        removals: list[Removal] = []
        if self.rules is not None:
            current, found = self.rules.apply(raw.doc_id, paragraphs)
            removals.extend(found)
        # One compiled pass gives the exact-match keys the in-page repeats compare and the template
        # forms the corpus-wide stages count (:func:`forms.keys_and_forms`).
        present = [i for i, p in enumerate(current) if p is not None]
        texts = [current[i] for i in present]
        made = forms.keys_and_forms(texts)  # type: ignore[arg-type]
        keys = page_forms = page_keys = None
        if made is not None:
            keys = repeats.exact_keys(made, texts)  # type: ignore[arg-type]
            page_keys = dict(zip(present, keys, strict=True))
            page_forms = dict(zip(present, made[1], strict=True))
            for k in made[2]:
                del page_forms[present[k]]
        r = self.config.repeats
        if r.enabled:
            current, found = repeats.remove_repeats(raw.doc_id, current, r.near, r.near_threshold,
                                                    r.near_min_words, r.min_words, r.scope, r.min_block, keys=keys)
            removals.extend(found)
        take_title = self.config.title.enabled
        given = title.given_title(raw.metadata, self.config.read.title_field) if take_title else None
        if self.model is not None or take_title:
            current, found = content.judge(raw.doc_id, current, self.model, self.threshold,
                                           self.config.content.protect_words, self.config.content.keep_headline,
                                           blocks, self.config.content.keep_lead_in,
                                           self.config.content.keep_list_items, take_title=take_title, url=raw.url,
                                           given_title=given, empty_pages=self.config.content.empty_pages)
            removals.extend(found)
        removals.sort(key=lambda x: (x.paragraph_index if x.paragraph_index is not None else -1,
                                     x.part != "fragment"))
        idx = [i for i, p in enumerate(current) if p is not None]
        line = next((r.text for r in removals if r.reason == "title"), None)
        found_title = given if given is not None else (
            title.title_text(line, raw.url) if line is not None else None)
        return CleanDocument(raw, [current[i] for i in idx], idx, len(paragraphs), fixes,  # type: ignore[misc]
                             removals, blocks, page_forms, found_title, page_keys)
