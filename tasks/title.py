"""The page's title: found among its lines and moved out of the text into the ``title`` column.

A scraped page prints its title once or twice: as the browser title with the site's name
("Healthy Eating Tips | Nutrition | CDC"), and as the heading above the article. The article's
text is the body under it; datasets of articles keep the title in a column of its own, and the
gold cleaning of both evaluation sets leaves it out of the body.

Which line is the title, in this order:

* **The input's own title**, when the record carries one (JSONL or Parquet field ``title``, see
  ``[read] title_field``): it is the ``title`` column's value, and the line before the body (or
  the body's first line) with its words is the title line; none moves if no line has them.
* **The URL's words** (``url_words``): most article URLs carry a slug of the title
  ("/2019/11/19/parise-scores-2-goals-wild-beat-sabres-4-1/"). A line before the body whose
  words cover at least half of the slug's, and whose own words are at least 60 % slug words, is
  the title; among several, the best covered, a heading before a browser title with a site's name,
  then the first. A line of three words or fewer must cover three quarters of the slug
  (a menu's "Stock Market" is not the title of ".../best-cloud-computing-stocks-of-2025").
* **The line above the body**, when the document has no URL (text files): the
  nearest of the three lines before the body that reads as a heading (3-30 words, not ending as a
  sentence or a label does, no separators), so that a site's name on the first line of a page stays
  for the corpus stages to judge while the headline under it goes to the title column. A URL
  without words (a numeric id, a home page) gives no title: on the evaluation sets, guessing the
  heading there took sub-headings and product names.

"Before the body": before the first sentence of 15+ words that another long line follows
within three lines (a newsletter box's one sentence is not yet the article).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import unquote

_WORD = re.compile(r"\w+")
_EXTENSION = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cms|amp)$")
_SLUG_SPLIT = re.compile(r"[\W_]+")
#: What separates a site's name from the title in a browser title, and menu marks (also a line
#: feature of the line model).
SEPARATORS = re.compile(r"[|»›·•←→▶►▸◄©®™]|\s[/>-]\s")

#: How much of the slug a title line must cover, and how much of the line must be slug words.
MIN_SLUG_COVER = 0.5
MIN_LINE_COVER = 0.6
MIN_SHORT_COVER = 0.75  # for lines of three words or fewer
SEPARATOR_PENALTY = 0.3
HEAD_BODY_WITHIN = 3  # without URL words: the title is one of this many lines above the body


def url_words(url: str | None) -> list[str]:
    """The words of the URL path's segment with the most words that have letters (the slug),
    lower-cased; [] when no segment has two such words."""
    return list(_url_words(url)) if url else []


@lru_cache(maxsize=64)  # a page's URL is read twice: to find the title line, and to cut a site's name
def _url_words(url: str) -> tuple[str, ...]:
    # the path: after "scheme://host", before the query or fragment
    start = url.find("://")
    rest = url[start + 3:] if start >= 0 else url
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else ""
    for mark in "?#":
        cut = path.find(mark)
        if cut >= 0:
            path = path[:cut]
    if "%" in path:
        path = unquote(path)
    best: list[str] = []
    best_alpha = 1
    for segment in path.lower().split("/"):
        if not segment:
            continue
        words = [w for w in _SLUG_SPLIT.split(_EXTENSION.sub("", segment)) if w]
        alpha = sum(1 for w in words if not w.isdigit())
        if alpha > best_alpha:
            best, best_alpha = words, alpha
    return tuple(best)


def body_start(long_sentence: Sequence[bool], long: Sequence[bool]) -> int:
    """Index of the first line that is a long sentence (``long_sentence``) followed within three
    lines by another long line (``long``), or the last long sentence; len() when there is none."""
    n = len(long_sentence)
    starts = [k for k in range(n) if long_sentence[k]]
    for k in starts:
        if any(long[j] for j in range(k + 1, min(k + 4, n))) or k == starts[-1]:
            return k
    return n


def given_title(metadata: str | None, field: str = "title") -> str | None:
    """The input record's own title: the string ``field`` of its metadata (a JSON object), stripped;
    None when there is none, it is not a string, or it has no word."""
    if not metadata or f'"{field}"' not in metadata:
        return None
    try:
        value = json.loads(metadata).get(field)
    except (ValueError, AttributeError):
        return None
    if not isinstance(value, str) or not _WORD.search(value):
        return None
    return " ".join(value.split())


def words_of(text: str) -> list[str]:
    """The lower-cased ``\\w+`` words of ``text``: what titles are compared by."""
    return [w.lower() for w in _WORD.findall(text)]


# a browser title's separators between the title and the site's name
_TITLE_PARTS = re.compile(r"\s+(?:[|»·•/:-]|[-–—]{1,2}|::)\s+|\s*[|»]\s*")


def title_text(line: str, url: str | None) -> str:
    """The title a title line holds: for a browser title, the part before or after the site's name
    ("Healthy Eating Tips | Nutrition | CDC" → "Healthy Eating Tips") that spells most of the URL's
    words (the first such part); the line itself when it has no separator or no part does better."""
    parts = [p.strip() for p in _TITLE_PARTS.split(line.strip()) if p.strip()]
    slug = set(url_words(url))
    if len(parts) < 2 or not slug:
        return line.strip()
    hits = [len(set(words_of(p)) & slug) for p in parts]
    best = max(range(len(parts)), key=lambda i: (hits[i], -i))
    whole = len(set(words_of(line)) & slug)
    return parts[best] if hits[best] >= 2 and hits[best] == whole else line.strip()


#: How each way of finding the title reads in a removal's ``detail``.
FOUND_BY = {"input": "the input's title field", "url": "the URL's words", "head": "a heading right above the body"}


def heading_shaped(line: str) -> bool:
    """Whether a (stripped) line reads as a heading: 3-30 words, not ending as a sentence or a label
    does (". ! ? :"), no separators."""
    n = len(_WORD.findall(line))
    return 3 <= n <= 30 and not line.endswith((".", "!", "?", ":")) and not SEPARATORS.search(line)


def find_title(texts: Sequence[str], url: str | None, body: int, given: str | None = None) -> tuple[int | None, str]:
    """The position in ``texts`` of the page's title line and how it was found ("input", "url" or
    "head"), or (None, "") when no line qualifies. ``body``: :func:`body_start` of the page.
    ``given``: the title the input record carries, if any: the line before the body (or the body's
    first line) with the same words (case and punctuation folded) is the title line, and no other
    is looked for."""
    if given is not None:
        want = words_of(given)
        for k in range(min(body + 1, len(texts))):
            if want and words_of(texts[k]) == want:
                return k, "input"
        return None, ""
    candidates: list[tuple[int, str, set[str]]] = []
    for k in range(min(body, len(texts))):
        line = texts[k].strip()
        words = {w.lower() for w in _WORD.findall(line)}
        if not 1 <= len(words) <= 40 or (line.endswith((".", ":")) and not line.endswith("...")):
            continue
        candidates.append((k, line, words))
    slug = set(url_words(url))
    if len(slug) >= 2:
        best: tuple[tuple[float, int], int] | None = None
        for k, line, words in candidates:
            hit = len(words & slug)
            cover, own = hit / len(slug), hit / len(words)
            if hit < 2 or cover < MIN_SLUG_COVER or own < MIN_LINE_COVER or (len(words) <= 3 and cover < MIN_SHORT_COVER):
                continue
            key = (round(min(cover, own) - SEPARATOR_PENALTY * bool(SEPARATORS.search(line)), 1), -k)
            if best is None or key > best[0]:
                best = (key, k)
        return (best[1], "url") if best is not None else (None, "")
    if url:  # a URL without words to compare (a numeric id, a home page): no guess
        return None, ""
    for k, line, _ in reversed(candidates):
        if k < body - HEAD_BODY_WITHIN:
            break
        if heading_shaped(line):
            return k, "head"
    return None, ""
