"""A generated news corpus of any size, shaped like scraped article text.

Every page is a made-up news article on one of many made-up sites, wrapped in that site's page
furniture the way text extractors leave it:

* navigation and section links at the head, a footer with legal links and a copyright line;
* share prompts, newsletter and donation widgets, comment-section prompts, image credits and
  "last modified" stamps (what the rule packs know), plus lines each site repeats on every page
  (what the template stage learns);
* a paragraph repeated inside the page now and then (a pull quote);
* syndicated copies: the same story on another site, with a new headline, a wire dateline, the
  last paragraph dropped and a few typos;
* curly quotes and dashes on most pages, no-break spaces on some, and mojibake (UTF-8 read as
  Windows-1252) on a few.

The text comes from a small grammar of English news sentences, so it has the word lengths,
function words and punctuation of real prose without copying anyone's article. Output is JSONL
(``{"id", "url", "text"}``), split into shards of about ``--shard-mb`` MB; the same seed always
gives the same bytes.

    python bench/generate.py --size-mb 100 --out /tmp/news-100
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

_SUBJECTS = [
    "The city council", "The minister", "Local officials", "The company", "Researchers", "The court",
    "Police", "The mayor", "Residents", "The government", "Union leaders", "The school board",
    "The central bank", "Investors", "The health department", "Emergency crews", "The committee",
    "Opposition lawmakers", "The airline", "Farmers", "The regulator", "Hospital staff", "Voters",
    "The county sheriff", "A spokesperson for the agency", "The coach", "Prosecutors", "Scientists",
]
_VERBS = [
    "announced", "approved", "rejected", "warned about", "delayed", "proposed", "criticised",
    "defended", "reviewed", "confirmed", "questioned", "expanded", "cut", "postponed", "investigated",
    "welcomed", "signed", "launched", "suspended", "debated", "funded", "reported", "disclosed",
]
_OBJECTS = [
    "a plan to rebuild the harbour", "the new budget", "a proposal to raise fares", "the merger",
    "changes to the zoning rules", "a report on air quality", "the contract with the supplier",
    "plans for a second bridge", "an inquiry into the accident", "the hiring freeze",
    "a programme for young workers", "the tax on imported goods", "the closure of two clinics",
    "new limits on water use", "the sale of the stadium", "a pilot scheme for electric buses",
    "the rules on short-term rentals", "emergency funding for schools", "the flood defences",
    "a review of police procedures", "the expansion of the airport", "an agreement on wages",
]
_TAILS = [
    "on Tuesday", "after a long debate", "despite strong objections", "earlier this week",
    "according to people familiar with the matter", "in a statement released on Monday",
    "for the third time this year", "ahead of the election", "following months of talks",
    "at a meeting that ran late into the night", "citing rising costs", "without giving a reason",
    "in a narrow vote", "as demand continued to grow", "after complaints from residents",
]
_CLAUSES = [
    "which critics say will cost more than expected", "a move that surprised many observers",
    "though details remain unclear", "and further talks are planned for next month",
    "while others called for patience", "but the final decision has not been made",
    "and the changes are expected to take effect in the spring", "as officials try to reassure the public",
]
_QUOTES = [
    "We have to get this right for the people who live here", "This is not the end of the process",
    "Nobody expected the numbers to rise this quickly", "We will keep working until the job is done",
    "It is a difficult decision, but it is the right one", "The evidence simply does not support it",
    "We need more time to look at the details", "People deserve clear answers",
]
_FIRST = ["Maria", "James", "Aisha", "Daniel", "Elena", "Tom", "Priya", "Lukas", "Grace", "Omar",
          "Sofia", "Henrik", "Chloe", "Marcus", "Nadia", "Felix", "Ruth", "Kenji", "Laura", "Samuel"]
_LAST = ["Okafor", "Lindqvist", "Moreau", "Hughes", "Patel", "Novak", "Reyes", "Keller", "Osei",
         "Brennan", "Castillo", "Fischer", "Nakamura", "Doyle", "Haddad", "Jensen", "Rossi", "Walsh"]
_PLACES = ["Riverton", "Eastbrook", "Port Alder", "Millbridge", "Northfield", "Lakeside", "Ashford",
           "Greyhaven", "Southgate", "Kingsmoor", "Westvale", "Elmsworth", "Harrowgate", "Copper Bay"]
_SECTIONS = ["Home", "News", "World", "Politics", "Business", "Sport", "Culture", "Opinion", "Science",
             "Health", "Local", "Weather", "Video", "Podcasts", "Obituaries", "Contact"]
_WIRES = ["(Wire Service)", "- Regional Press Association -", "(Metro News Agency)"]


def _person(r: random.Random) -> str:
    return f"{r.choice(_FIRST)} {r.choice(_LAST)}"


_ONSETS = ["b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "pl",
           "pr", "r", "s", "sh", "sl", "st", "t", "th", "tr", "v", "w", "z", ""]
_NUCLEI = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oa", "ou", "io"]
_CODAS = ["", "n", "r", "l", "s", "t", "nd", "nt", "rk", "st", "ng", "m", "ck", "x"]
_SUFFIX = {"noun": ["", "tion", "ment", "ity", "ness", "er", "age", "ance"], "adj": ["", "al", "ous", "ive", "ic", "ful"],
           "verb": ["ed", "ized", "ated", "ened"]}


class _Lexicon:
    """Made-up content words (nouns, adjectives, verbs, place and family names), drawn with a
    Zipf-like law so that the corpus has the long vocabulary tail of real text: word shingles
    rarely repeat across unrelated articles, as in real news."""

    def __init__(self, seed: int, size: int = 24000):
        r = random.Random(seed + 7919)
        seen: set[str] = set()
        words: list[str] = []
        while len(words) < size:
            w = "".join(r.choice(_ONSETS) + r.choice(_NUCLEI) + r.choice(_CODAS)
                        for _ in range(r.choices((1, 2, 3), (5, 4, 1))[0]))
            if len(w) > 2 and w not in seen:
                seen.add(w)
                words.append(w)
        self.words = words
        weights = [1.0 / (k + 10) ** 1.05 for k in range(size)]
        acc = 0.0
        self.cum = []
        for w_ in weights:
            acc += w_
            self.cum.append(acc)

    def draw(self, r: random.Random, kind: str) -> str:
        w = r.choices(self.words, cum_weights=self.cum)[0]
        return w + r.choice(_SUFFIX[kind])


_DETS = ["the", "a", "its", "their", "this", "another", "the new", "the local"]
_PREPS = ["in", "on", "for", "near", "after", "before", "with", "against", "under", "around", "across"]
_LINKS = ["while", "because", "although", "after", "as", "since", "even though", "and"]


def _np(r: random.Random, lex: _Lexicon) -> str:
    adj = f"{lex.draw(r, 'adj')} " if r.random() < 0.5 else ""
    return f"{r.choice(_DETS)} {adj}{lex.draw(r, 'noun')}"


def _sentence(r: random.Random, lex: _Lexicon | None = None) -> str:
    lex = lex or _LEX
    k = r.random()
    if k < 0.45:
        s = (f"{r.choice(_SUBJECTS)} {lex.draw(r, 'verb')} {_np(r, lex)} {r.choice(_PREPS)} {_np(r, lex)}")
        if r.random() < 0.5:
            s += f" {r.choice(_LINKS)} {_np(r, lex)} {lex.draw(r, 'verb')} {_np(r, lex)}"
        return s[0].upper() + s[1:] + "."
    if k < 0.6:
        return (f"\u201c{r.choice(_QUOTES)} about {_np(r, lex)},\u201d said {_person(r)}, who has "
                f"{lex.draw(r, 'verb')} {_np(r, lex)} in {r.choice(_PLACES)} for {r.randint(2, 40)} years.")
    if k < 0.75:
        return (f"The figures show that {r.randint(2, 95)} percent of {lex.draw(r, 'noun')}s in "
                f"{r.choice(_PLACES)} {lex.draw(r, 'verb')} {_np(r, lex)} in {r.randint(2015, 2026)}, up from "
                f"{r.randint(2, 60)} percent.")
    if k < 0.85:
        return (f"{_person(r)}, a {lex.draw(r, 'adj')} {lex.draw(r, 'noun')}, said the {lex.draw(r, 'noun')} "
                f"\u2014 {r.choice(_CLAUSES)} \u2014 {lex.draw(r, 'verb')} {_np(r, lex)}.")
    s = f"{r.choice(_SUBJECTS)} {r.choice(_VERBS)} {r.choice(_OBJECTS)} {r.choice(_TAILS)}"
    if r.random() < 0.5:
        s += f", {r.choice(_CLAUSES)}"
    return s + "."


_LEX = _Lexicon(0)


def _paragraph(r: random.Random) -> str:
    return " ".join(_sentence(r) for _ in range(r.randint(2, 5)))


@dataclass
class Site:
    host: str
    name: str
    nav: list[str]
    footer: list[str]
    own: list[str]  # lines this site prints on every page (learned as templates, not in any rule)


def _site(r: random.Random, i: int) -> Site:
    name = f"The {r.choice(_PLACES)} {r.choice(['Herald', 'Courier', 'Post', 'Gazette', 'Tribune', 'Observer'])}"
    host = f"www.{name.lower().replace('the ', '').replace(' ', '')}{i}.example"
    secs = r.sample(_SECTIONS, r.randint(5, 10))
    nav = [" | ".join(secs)] if r.random() < 0.5 else secs
    footer = [
        f"\u00a9 {r.randint(2019, 2026)} {name}. All rights reserved.",
        r.choice(["Privacy Policy", "Privacy Notice", "Cookie Policy"]),
        r.choice(["Terms of Use", "Terms and Conditions", "Terms of Service"]),
    ]
    own = [
        r.choice([f"{name} is an independent newsroom serving {r.choice(_PLACES)} since {r.randint(1890, 2010)}.",
                  f"Got a story tip? Call the {name.split()[-1].lower()} desk on 0{r.randint(100, 999)} {r.randint(100000, 999999)}.",
                  f"Read today's print edition of {name} online."]),
        r.choice(["Most read", "Trending now", "Editor's picks", "More from this section"]),
    ]
    return Site(host, name, nav, footer, own)


_WIDGETS = [
    ["Share this article", "Share on Facebook", "Share on X", "Email"],
    ["Sign up for our newsletter", "Get the latest headlines delivered to your inbox every morning."],
    ["Do you like this content? Consider helping us!", "0 $ / 2,500 $"],
    ["Leave a Reply", "Your email address will not be published. Required fields are marked *"],
    ["Be the first to comment"],
    ["You must become a subscriber or login to view or post comments."],
]


def _mojibake(text: str) -> str:
    """UTF-8 read as Windows-1252, the way browsers and ftfy's "sloppy" codec read it: the five
    bytes Windows-1252 leaves undefined become the C1 control characters of the same number."""
    raw = text.encode("utf-8")
    return "".join(raw[i:i + 1].decode("cp1252", errors="ignore") or chr(raw[i]) for i in range(len(raw)))


@dataclass
class Story:
    headline: str
    dateline: str
    paragraphs: list[str]


def _story(r: random.Random) -> Story:
    place = r.choice(_PLACES)
    head = f"{r.choice(_SUBJECTS)} {r.choice(_VERBS)} {r.choice(_OBJECTS)}".replace("The ", "", 1)
    head = head[0].upper() + head[1:]
    return Story(head, f"{place.upper()} \u2014", [_paragraph(r) for _ in range(r.randint(5, 14))])


def _typos(r: random.Random, text: str, n: int) -> str:
    words = text.split(" ")
    for _ in range(n):
        i = r.randrange(len(words))
        w = words[i]
        if len(w) > 3:
            j = r.randrange(1, len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def _page(r: random.Random, site: Site, story: Story, copy: bool) -> str:
    lines: list[str] = []
    lines.extend(site.nav)
    lines.append("")
    headline = story.headline
    paras = list(story.paragraphs)
    first = f"{story.dateline} {paras[0]}"
    if copy:
        headline = f"{r.choice(['Report:', 'Update:', 'Breaking:'])} {headline}"
        first = f"{story.dateline} {r.choice(_WIRES)} {paras[0]}"
        if len(paras) > 3:
            paras = paras[:-1]
        paras = [_typos(r, p, 1) if r.random() < 0.3 else p for p in paras]
    lines.append(headline)
    lines.append(f"By {_person(r)}")
    lines.append(f"Published {r.randint(1, 28)} {r.choice(['March', 'June', 'October'])} {r.randint(2022, 2026)}")
    lines.append("")
    body = [first] + paras[1:]
    if r.random() < 0.15 and len(body) > 4:  # a pull quote, printed twice
        body.insert(r.randint(3, len(body) - 1), body[1])
    if r.random() < 0.3:
        body.insert(1, f"Image courtesy of {_person(r)}")
    for p in body:
        lines.append(p)
        lines.append("")
    for w in r.sample(_WIDGETS, r.randint(1, 3)):
        lines.extend(w)
        lines.append("")
    lines.extend(site.own)
    if r.random() < 0.4:
        lines.append(f"Last modified on {r.choice(['Monday', 'Friday'])}, {r.randint(1, 28)} May {r.randint(2022, 2026)}")
    lines.extend(site.footer)
    text = "\n".join(lines)
    k = r.random()
    if k < 0.03:
        text = _mojibake(text)
    elif k < 0.12:
        text = text.replace(" \u2014 ", "\u00a0\u2014 ").replace(". ", ".\u00a0 ", 2)
    return text


def generate(out: Path, size_mb: float, *, shard_mb: float = 16.0, seed: int = 0, n_sites: int = 300,
             copy_share: float = 0.1) -> dict:
    """Write about ``size_mb`` MB of JSONL shards into ``out``; return what was written."""
    out.mkdir(parents=True, exist_ok=True)
    r = random.Random(seed)
    sites = [_site(r, i) for i in range(n_sites)]
    stories: list[Story] = []
    target = int(size_mb * 1e6)
    shard_bytes = int(shard_mb * 1e6)
    written = docs = copies = shard = 0
    fh = None
    in_shard = 0
    files: list[str] = []
    while written < target:
        if fh is None or in_shard >= shard_bytes:
            if fh is not None:
                fh.close()
            path = out / f"news-{shard:05d}.jsonl"
            fh = open(path, "w", encoding="utf-8")
            files.append(path.name)
            shard += 1
            in_shard = 0
        copy = bool(stories) and r.random() < copy_share
        story = r.choice(stories[-2000:]) if copy else _story(r)
        if not copy:
            stories.append(story)
            if len(stories) > 4000:
                del stories[:2000]
        site = r.choice(sites)
        doc_id = f"doc-{docs:09d}"
        slug = "-".join(story.headline.lower().split()[:6]).strip(".,:")
        rec = {"id": doc_id, "url": f"https://{site.host}/news/{slug}-{docs}", "text": _page(r, site, story, copy)}
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        n = len(line.encode("utf-8"))
        fh.write(line)
        written += n
        in_shard += n
        docs += 1
        copies += copy
    if fh is not None:
        fh.close()
    return {"path": str(out), "bytes": written, "documents": docs, "copies": copies, "files": files,
            "seed": seed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--shard-mb", type=float, default=16.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    info = generate(a.out, a.size_mb, shard_mb=a.shard_mb, seed=a.seed)
    print(json.dumps({k: v for k, v in info.items() if k != "files"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
