"""The page's title: found by the URL's words or above the body, moved to the `title` column."""

from __future__ import annotations

import json

import duckdb

from conftest import assert_reconciles, read_dataset, run_flow
from scrapewash import schemas
from scrapewash.config import Config
from scrapewash.records import RawDocument
from scrapewash.tasks import title
from scrapewash.tasks.clean import Cleaner

BODY = [
    "The county council voted on Tuesday to keep the Harbour Road library open for another two years, "
    "reversing a plan that would have closed it at the end of the summer.",
    "Councillors said the decision followed a petition signed by more than four thousand residents, "
    "many of whom use the library's computers to apply for work and benefits.",
    "The library will cut its Saturday hours to save money, and volunteers will run a reading group "
    "for children during the school holidays, the council said in a statement.",
]
URL = "https://gazette.example/2026/04/15/council-keeps-harbour-road-library-open/"


def _clean(lines, url=None, config=None):
    raw = RawDocument("d", "\n\n".join(lines), "in.jsonl", "in.jsonl:1", 0, url)
    return Cleaner(config or Config()).clean(raw)


def test_url_words_are_the_slug():
    assert title.url_words(URL) == ["council", "keeps", "harbour", "road", "library", "open"]
    assert title.url_words("https://x.example/news/us/article/New-SUVs-highlight-L-A-14848164.php") == [
        "new", "suvs", "highlight", "l", "a", "14848164"]
    assert title.url_words("https://x.example/a/30279001.html") == []  # a number, no words
    assert title.url_words("https://x.example/") == []
    assert title.url_words(None) == []
    assert title.url_words("http://[bad") == []  # an unparsable URL is no error


def test_the_heading_the_url_spells_is_the_title_before_the_browser_title():
    lines = ["Council keeps Harbour Road library open | Tarrow Valley Gazette", "Home", "News",
             "Council keeps Harbour Road library open", *BODY]
    doc = _clean(lines, URL)
    assert doc.title == "Council keeps Harbour Road library open"
    row = next(r for r in doc.removals if r.reason == "title")
    assert row.paragraph_index == 3 and row.rule == "title/url" and "title column" in row.detail
    assert doc.paragraphs[-len(BODY):] == BODY
    # only the browser title spells the URL: the whole line leaves the text, the title is the part
    # before the site's name
    doc = _clean([lines[0], "Home", *BODY], URL)
    assert doc.title == "Council keeps Harbour Road library open"
    assert next(r for r in doc.removals if r.reason == "title").text == lines[0]


def test_the_site_name_is_cut_from_a_browser_title():
    cut = title.title_text
    assert cut("Healthy Eating Tips | Nutrition | CDC",
               "https://www.cdc.gov/nutrition/features/healthy-eating-tips.html") == "Healthy Eating Tips"
    assert cut("equipment - Catering event for 1st time. How should I prepare? - Seasoned Advice",
               "https://cooking.example/questions/1/catering-event-for-1st-time-how-should-i-prepare"
               ) == "Catering event for 1st time. How should I prepare?"
    # a colon inside the title is no separator; a part that would lose URL words is not cut off
    assert cut("Google Stadia, Apple Arcade: So Many Ways to Play - WSJ",
               "https://wsj.example/articles/google-stadia-apple-arcade-so-many-ways-to-play"
               ) == "Google Stadia, Apple Arcade: So Many Ways to Play"
    assert cut("Rail strike - day two", "https://x.example/rail-strike-day-two") == "Rail strike - day two"
    assert cut("Rail strike | Gazette", None) == "Rail strike | Gazette"


def test_menu_words_and_body_lines_are_not_the_title():
    url = "https://shop.example/blog/best-cloud-computing-stocks-of-2025"
    # "Stock Market" shares words with the slug but covers too little of it; nothing else spells it
    doc = _clean(["Stock Market", "Cloud stocks", *BODY], url)
    assert doc.title is None
    # a line after the body's start is not looked at
    doc = _clean([*BODY[:2], "Best cloud computing stocks of 2025", BODY[2]], url)
    assert doc.title is None
    # a sentence ending in a full stop is not a title, even if it spells the URL
    doc = _clean(["Best cloud computing stocks of 2025.", *BODY], url)
    assert doc.title is None


def test_without_url_words_the_heading_right_above_the_body():
    lines = ["Tarrow Valley Gazette", "Home | News | Sport", "Council keeps Harbour Road library open", *BODY]
    doc = _clean(lines)  # no URL: the site's name on the first line stays, the headline goes
    assert doc.title == "Council keeps Harbour Road library open"
    assert next(r for r in doc.removals if r.reason == "title").rule == "title/head"
    doc = _clean(lines, "https://gazette.example/a/30279001.html")  # a URL without words: no guess
    assert doc.title is None
    # a question, or a line far above the body, is not taken for a title
    assert _clean(["Will the library stay open?", *BODY]).title is None
    far = ["Council keeps Harbour Road library open", "Tarrow", "Coombe", "Nether", "Valley", *BODY]
    assert _clean(far, config=Config.model_validate({"content": {"enabled": False}})).title is None


def test_a_title_alone_stays_in_the_text_and_the_switch_turns_it_off():
    doc = _clean(["Council keeps Harbour Road library open"], URL)
    assert doc.title is None and doc.paragraphs == ["Council keeps Harbour Road library open"]
    off = Config.model_validate({"title": {"enabled": False}})
    doc = _clean(["Council keeps Harbour Road library open", *BODY], URL, off)
    assert doc.title is None and doc.paragraphs[0] == "Council keeps Harbour Road library open"
    assert not [r for r in doc.removals if r.reason == "title"]
    # with the line model off, the title is still found
    doc = _clean(["Council keeps Harbour Road library open", *BODY], URL,
                 Config.model_validate({"content": {"enabled": False}}))
    assert doc.title == "Council keeps Harbour Road library open" and doc.paragraphs == BODY


def test_the_inputs_own_title_field():
    meta = json.dumps({"title": "Council keeps Harbour Road library open", "section": "news"})
    raw = RawDocument("d", "\n\n".join(["COUNCIL KEEPS HARBOUR ROAD LIBRARY OPEN", *BODY]), "in.jsonl",
                      "in.jsonl:1", 0, "https://gazette.example/a/1234.html", meta)
    doc = Cleaner(Config()).clean(raw)
    assert doc.title == "Council keeps Harbour Road library open"  # the input's, as written there
    row = next(r for r in doc.removals if r.reason == "title")
    assert row.text == "COUNCIL KEEPS HARBOUR ROAD LIBRARY OPEN" and row.rule == "title/input"
    assert doc.paragraphs == BODY
    # no line repeats it: the title column still holds it, the text keeps every line
    raw = RawDocument("d", "\n\n".join(BODY), "in.jsonl", "in.jsonl:1", 0, URL, meta)
    doc = Cleaner(Config()).clean(raw)
    assert doc.title == "Council keeps Harbour Road library open" and doc.paragraphs == BODY
    assert not [r for r in doc.removals if r.reason == "title"]
    # another field name; a title that is no string is no title
    config = Config.model_validate({"read": {"title_field": "headline"}})
    raw = RawDocument("d", "\n\n".join(BODY), "in.jsonl", "in.jsonl:1", 0, None,
                      json.dumps({"headline": "Library saved", "title": "ignored"}))
    assert Cleaner(config).clean(raw).title == "Library saved"
    assert title.given_title(json.dumps({"title": 7})) is None
    assert title.given_title(json.dumps({"title": " -- "})) is None
    assert title.given_title("[1, 2]") is None


# Two pages of the dataset tests: one whose headline the URL spells, one whose URL has no words.
LIBRARY_ROW = {"id": "a", "url": URL, "text": "\n\n".join(["Council keeps Harbour Road library open", *BODY])}
RAIL = ["Rail workers on the valley line will strike for two days next week after talks over pay "
        "broke down on Friday evening, their union said.",
        "The operator said it would run a reduced timetable with replacement buses between the "
        "market town and the coast, and urged passengers to check before travelling."]
RAIL_ROW = {"id": "b", "url": "https://gazette.example/a/1234.html", "text": "\n\n".join(RAIL)}


def test_title_column_in_the_dataset(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        LIBRARY_ROW, RAIL_ROW,
        {"id": "c", "title": "Swimming pool reopens", "text": "\n\n".join([
            "The town's swimming pool reopened on Saturday after a six-month refurbishment that replaced "
            "its roof, its changing rooms and the boiler that heats the water.",
            "Opening hours are the same as before, and children under five swim for free on weekday "
            "mornings, the leisure trust said."])},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    counts = run_flow([src], out)
    assert_reconciles(out, counts)  # the moved title is accounted for as a removal from the text
    from scrapewash.flows.clean_corpus import summary_rows
    assert ("paragraphs moved to the title column", 1) in summary_rows(counts)  # the run summary says so
    docs = read_dataset(out, "documents")
    assert docs.schema.field("title").type == "string"
    got = {d["doc_id"]: d for d in docs.to_pylist()}
    assert got["a"]["title"] == "Council keeps Harbour Road library open"
    assert got["a"]["text"] == "\n\n".join(BODY)
    assert got["b"]["title"] is None
    assert got["c"]["title"] == "Swimming pool reopens"
    assert json.loads(got["c"]["metadata"]) == {"title": "Swimming pool reopens"}  # it stays there too
    removed = [r for r in read_dataset(out, "removed").to_pylist() if r["reason"] == "title"]
    assert [(r["doc_id"], r["paragraph_index"], r["text"]) for r in removed] == [
        ("a", 0, "Council keeps Harbour Road library open")]
    manifest = json.loads(next((out / "_runs").glob("*.json")).read_text())
    assert manifest["schema_versions"]["documents"] == schemas.DOCUMENTS_VERSION == 2
    # downstream SQL sees the column
    con = duckdb.connect()
    hit = con.execute(f"select doc_id, title from read_parquet('{out}/documents/**/*.parquet') "
                      "where title is not null").fetchall()
    assert sorted(hit) == [("a", "Council keeps Harbour Road library open"), ("c", "Swimming pool reopens")]


def test_a_removed_documents_row_names_the_title_that_goes_with_it(tmp_path):
    """The ``title`` row says the line moved to the title column; when the document itself is then
    removed (every body paragraph a copy of another document's, or the whole page a near copy), its
    document row says that the title goes too."""
    rows = [
        LIBRARY_ROW, RAIL_ROW,
        {"id": "e", "url": "https://other.example/2026/04/16/library-and-rail-news-in-brief/",
         "text": "\n\n".join(["Library and rail news in brief", BODY[0], RAIL[0]])},
        {"id": "f", "url": "https://other.example/2026/04/16/harbour-road-library-stays-open/",
         "text": "\n\n".join(["Harbour Road library stays open", *BODY])},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    counts = run_flow([src], out)
    assert_reconciles(out, counts)
    assert sorted(read_dataset(out, "documents")["doc_id"].to_pylist()) == ["a", "b"]
    removed = read_dataset(out, "removed").to_pylist()
    titles = {r["doc_id"]: r["text"] for r in removed if r["reason"] == "title"}
    assert titles["e"] == "Library and rail news in brief" and titles["f"] == "Harbour Road library stays open"
    whole = {r["doc_id"]: r for r in removed if r["part"] == "document"}
    assert whole["e"]["reason"] == "empty_document"
    assert whole["e"]["detail"] == ("all 3 paragraphs were removed; its title goes with it: "
                                    "'Library and rail news in brief'")
    assert whole["f"]["reason"] == "near_duplicate_document" and whole["f"]["duplicate_of"] == "a"
    assert whole["f"]["detail"].endswith("; its title goes with it: 'Harbour Road library stays open'")
    assert [r["reason"] for r in removed if r["doc_id"] == "e" and r["part"] == "paragraph"] == [
        "title", "duplicate_paragraph", "duplicate_paragraph"]


def test_title_note_is_short():
    from scrapewash.tasks.prepare import title_note
    assert title_note(None) == "" and title_note("") == ""
    assert title_note("x" * 150) == "; its title goes with it: '" + "x" * 99 + "…'"
