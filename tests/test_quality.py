"""Cleaning quality on real pages with human gold text (../shared/evaldata)."""

from __future__ import annotations

import pytest

from conftest import EVALDATA, assert_reconciles, need_shared, run_flow
from scrapewash.evaluate import kept_texts, read_jsonl, score_run
from scrapewash.metrics import doc_counts, score, shingle_multiset


def test_metric_on_hand_made_cases():
    gold = "one two three four five six"
    assert doc_counts(gold, gold).precision == 1.0
    c = doc_counts("zero " + gold, gold)  # one extra 4-gram
    assert (c.tp, c.fp, c.fn) == (3, 1, 0)
    c = doc_counts("one two three four", gold)
    assert (c.tp, c.fp, c.fn) == (1, 0, 2)
    assert doc_counts("", gold).precision is None and doc_counts("", gold).recall == 0.0
    # multisets: a repeated paragraph counts twice
    assert sum(shingle_multiset("a b c d a b c d").values()) == 5
    s = score([(gold, gold), ("", gold)])
    assert s.precision == 1.0 and s.recall == 0.5 and abs(s.f1 - 2 / 3) < 1e-9


def _scrapinghub(variant: str, out) -> dict:
    folder = need_shared(EVALDATA / "scrapinghub-aeb")
    raw_path = folder / f"{variant}.jsonl.gz"
    counts = run_flow([raw_path], out)
    assert_reconciles(out, counts)
    result = score_run(read_jsonl(raw_path), read_jsonl(folder / "gold.jsonl.gz"), kept_texts(out, counts["run_id"]))
    assert result["documents"] == 181
    return result


@pytest.mark.slow
def test_cleaning_improves_scrapinghub_recall_set(tmp_path):
    result = _scrapinghub("recall", tmp_path)
    assert result["cleaned"]["f1"] > result["doing_nothing"]["f1"]
    assert result["cleaned"]["precision"] > result["doing_nothing"]["precision"]


@pytest.mark.slow
def test_raw_page_dumps_cleaned_well_past_doing_nothing(tmp_path):
    result = _scrapinghub("dump", tmp_path)
    assert result["doing_nothing"]["f1"] < 0.70
    assert result["cleaned"]["f1"] >= 0.85


def test_snippets_and_report_on_hand_made_pages():
    from scrapewash.evaluate import snippet_present

    assert snippet_present("Home", "welcome home, friend")
    assert not snippet_present("Home", "homeowners were angry")
    raw = [{"id": "p1", "text": "Home\nLogin\nThe mayor opened the new bridge over the river today.\nShare"},
           {"id": "p2", "text": "Menu\nRain is expected all week across the northern valleys."}]
    gold = [{"id": "p1", "gold": "The mayor opened the new bridge over the river today.",
             "with": ["opened the new bridge"], "without": ["Home", "Login", "Share", "Not in the page"],
             "page_type": "article"},
            {"id": "p2", "gold": "Rain is expected all week across the northern valleys.",
             "with": ["Rain is expected"], "without": ["Menu"], "page_type": "article"}]
    kept = {"p1": "Login\n\nThe mayor opened the new bridge over the river today.", "p2": ""}
    r = score_run(raw, gold, kept)
    assert r["snippets"] == {"without_removed": 0.75, "with_kept": 0.5, "without_snippets": 4, "with_snippets": 2}
    assert r["snippets_doing_nothing"]["without_removed"] == 0.0
    worst = r["worst_documents"][0]
    assert worst["id"] == "p2" and worst["f1_cleaned"] == 0.0
    assert worst["removed_but_in_gold"] == ["Rain is expected all week across the northern valleys."]
    assert r["worst_documents"][1]["kept_but_not_in_gold"] == ["Login"]
    assert r["by_page_type"]["article"]["documents"] == 2


def test_snippets_copied_from_broken_input_are_looked_for_as_repaired():
    """A gold snippet copied from mojibake or soft-hyphenated input is found in the repaired text;
    the repair is applied to kept and removed snippets alike, and only where it changes them."""
    from scrapewash.config import Config
    from scrapewash.tasks import encoding

    cfg = Config()

    def repair(text):
        return encoding.repair(text, cfg.encoding)[0]

    raw = [{"id": "p1", "text": "If youâ\x80\x99re building a store, ask first.\nMust com\xadplete a permit.\n"
                                "Sign up â\x80\x93 free\nThe council meets today."}]
    gold = [{"id": "p1", "gold": "If you’re building a store, ask first. Must complete a permit.",
             "with": ["If youâ\x80\x99re building a store", "Must com\xadplete a permit", "The council meets"],
             "without": ["Sign up â\x80\x93 free"]}]
    kept = {"p1": repair("If youâ\x80\x99re building a store, ask first.\n\nMust com\xadplete a permit.\n\n"
                         "Sign up â\x80\x93 free")}
    assert "youâ" not in kept["p1"] and "\xad" not in kept["p1"]
    plain = score_run(raw, gold, kept)["snippets"]
    assert plain["with_kept"] == 0.0 and plain["without_removed"] == 1.0  # the plain match misses all three
    fair = score_run(raw, gold, kept, repair=repair)["snippets"]
    assert fair == {"without_removed": 0.0, "with_kept": round(2 / 3, 4), "without_snippets": 1,
                    "with_snippets": 3}
    # doing nothing is scored on the raw text itself, which holds every snippet as written
    nothing = score_run(raw, gold, kept, repair=repair)["snippets_doing_nothing"]
    assert nothing["with_kept"] == 1.0 and nothing["without_removed"] == 0.0


def test_titles_scored_against_the_gold_titles():
    from scrapewash.cli import format_eval
    from scrapewash.evaluate import title_scores

    gold = [{"id": "a", "gold": "x", "title": "Council keeps library open"},
            {"id": "b", "gold": "x", "title": "Rail strike: day two"},
            {"id": "c", "gold": "x", "title": "Pool reopens"},
            {"id": "d", "gold": "x", "title": "Bridge repairs"},
            {"id": "e", "gold": "x"},  # no gold title: not counted
            {"id": "f", "gold": "x", "title": " -- "}]  # no words: not counted
    titles = {"a": "Council Keeps Library Open!", "b": "Rail strike - day two | Gazette", "c": "Weather", "d": None,
              "e": "Something"}
    assert title_scores(gold, titles) == {"gold_titles": 4, "found": 3, "exact": 1, "gold_within": 1, "unrelated": 1}
    assert title_scores([{"id": "e", "gold": "x"}], titles) is None
    raw = [{"id": g["id"], "text": "x"} for g in gold]
    r = score_run(raw, gold, {g["id"]: "x" for g in gold}, titles=titles)
    assert r["titles"]["exact"] == 1
    assert "titles: 3 of 4 pages with a gold title got one; 1 the gold's" in format_eval(r)
    assert "titles" not in score_run(raw, gold, {g["id"]: "x" for g in gold})  # no title column given
