"""The line model: features, tree evaluation, and what it removes from a hand-made page dump."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scrapewash.config import Config
from scrapewash.records import RawDocument
from scrapewash.tasks import content
from scrapewash.tasks.clean import Cleaner

BODY = [
    "The county council voted on Tuesday to keep the Harbour Road library open for another two years, "
    "reversing a plan that would have closed it at the end of the summer to save money.",
    "Councillors said a petition signed by more than four thousand residents had changed their minds, "
    "and that the building would now be shared with the local advice centre to cut the running costs.",
    "The library lends about sixty thousand books a year and runs reading groups for children, which "
    "parents told the meeting were the only free activity of that kind within walking distance.",
    "A final decision on opening hours will be taken in the autumn, once the advice centre has agreed "
    "to pay its share of the heating and the cleaning of the building, the council said.",
]
# No rule pack knows these: a menu of place and section names, a list of other stories, a footer.
NAV = ["Harbour Gazette", "Kelmoor", "Ashby Tarrow", "Millrace", "Food and drink", "Crosswords", "Obituaries"]
FOOT = ["Town hall cuts bus route", "Ferry fares to rise", "Harbour festival dates announced",
        "Harbour Gazette, 12 Quay Street, Kelmoor"]
HEADLINE = "Council keeps Harbour Road library open"


def _page() -> str:
    return "\n".join(NAV + [HEADLINE] + BODY + FOOT)


def test_features_have_one_column_per_name():
    lines = _page().split("\n")
    idx, x = content.features(list(lines))
    assert idx == list(range(len(lines)))
    assert x.shape == (len(lines), len(content.FEATURES))
    assert np.isfinite(x).all()
    col = content.FEATURES.index
    words = np.expm1(x[:, col("words")]).round()
    assert list(words[:3]) == [2, 1, 2] and words[len(NAV) + 1] > 25
    # lines removed before the model still count as "rule removals nearby"
    current = list(lines)
    current[1] = None
    _, x2 = content.features(current)
    assert x2.shape[0] == len(lines) - 1 and x2[0, col("rule_removed_near")] == 1
    assert content.features([])[1].shape == (0, len(content.FEATURES))


def test_trees_are_evaluated_like_their_definition():
    spec = {
        "name": "t", "version": 1, "features": list(content.FEATURES), "base_score": 0.5, "threshold": 0.5,
        "trees": [
            # words <= log1p(3) ? (stop_share <= 0.2 ? -2 : 1) : 3
            {"feature": [0, 2, 0, 0, 0], "threshold": [math.log1p(3), 0.2, 0, 0, 0],
             "left": [1, 3, -1, -1, -1], "right": [2, 4, -1, -1, -1], "value": [0, 0, 3.0, -2.0, 1.0]},
            {"feature": [0], "threshold": [0], "left": [-1], "right": [-1], "value": [0.25]},
        ],
    }
    model = content.ContentModel(spec)
    x = np.zeros((3, len(content.FEATURES)), dtype=np.float32)
    x[0, 0], x[0, 2] = math.log1p(2), 0.1  # short, few stop words
    x[1, 0], x[1, 2] = math.log1p(2), 0.5  # short, many stop words
    x[2, 0] = math.log1p(50)  # long
    expected = np.array([0.5 - 2 + 0.25, 0.5 + 1 + 0.25, 0.5 + 3 + 0.25])
    assert np.allclose(model.margin(x), expected)
    assert np.allclose(model.score(x), 1 / (1 + np.exp(-expected)))
    # the walk for one or two rows, the level-by-level one, and one whose rows all reach their leaves
    # a level before the tree's depth (the walk stops there)
    for rows in (x[:1], x[1:], x[[2, 0, 1, 2]], x[[2, 2, 2]]):
        assert np.array_equal(model.margin(rows), model.margin_reference(rows))
    assert model.depths.tolist() == [2, 0]


def test_model_on_features_this_version_lacks_is_refused():
    with pytest.raises(ValueError, match="does not compute.*'reading_age'"):
        content.ContentModel({"name": "t", "version": 1, "features": ["words", "reading_age"], "base_score": 0,
                              "trees": [{"feature": [0], "threshold": [0], "left": [-1], "right": [-1],
                                         "value": [0]}]})


def test_a_model_on_fewer_features_reads_its_own_columns():
    # A model trained before features were added lists fewer: its feature numbers index its own list.
    spec = {"name": "t", "version": 1, "features": ["stop_share", "words"], "base_score": 0.0,
            "trees": [{"feature": [1, 0, 0], "threshold": [math.log1p(3), 0, 0], "left": [1, -1, -1],
                       "right": [2, -1, -1], "value": [0, -1.0, 2.0]}]}  # words <= log1p(3) ? -1 : 2
    model = content.ContentModel(spec)
    x = np.zeros((2, len(content.FEATURES)), dtype=np.float32)
    x[:, content.FEATURES.index("stop_share")] = 9.0  # would send both rows right if read as "words"
    x[0, content.FEATURES.index("words")] = math.log1p(2)
    x[1, content.FEATURES.index("words")] = math.log1p(40)
    assert model.margin(x).tolist() == [-1.0, 2.0]
    assert model.margin_reference(x).tolist() == [-1.0, 2.0]
    # the previous bundled model still loads and scores the pages it was trained on
    assert content.load_model("content-v4").features == content.FEATURES[:content.FEATURES.index("cohesion_long")]


def test_cohesion_counts_a_lines_words_used_elsewhere_on_the_page():
    body = BODY[0]  # long: "county council voted Tuesday keep Harbour Road library ..."
    lines = ["Harbour Road library", "Crosswords Obituaries", "Library library LIBRARY 2024 the",
             "Food and drink", "Obituaries", body, "東京都の図書館"]
    idx, x = content.features(list(lines))
    col = content.FEATURES.index
    long_share, any_share = x[:, col("cohesion_long")].tolist(), x[:, col("cohesion_any")].tolist()
    assert long_share[0] == 1.0 and any_share[0] == 1.0  # all three words are in the body
    assert long_share[1] == 0.0 and any_share[1] == 0.5  # "obituaries" is on another (short) line
    assert long_share[2] == 1.0 and any_share[2] == 1.0  # one word, case folded; numbers and "the" are not words
    assert long_share[3] == 0.0 and any_share[3] == 0.0  # "food", "drink": nowhere else
    assert long_share[4] == 0.0 and any_share[4] == 1.0
    # the long line's own words do not count for it: only "harbour", "road", "library" are elsewhere
    words = content.content_words(body)
    assert long_share[5] == 0.0 and any_share[5] == pytest.approx(3 / len(words), abs=1e-7)
    assert long_share[6] == -1.0 and any_share[6] == -1.0  # an unspaced script has no content words here
    assert content.content_words("The Library's 3 LIBRARIES and ÖLFELD Ölfeld") == {"library", "libraries", "ölfeld"}


def test_bundled_model_strips_navigation_keeps_body_and_headline():
    doc = Cleaner(Config()).clean(RawDocument("p", _page(), "page.txt", "page.txt", 0))
    kept = doc.paragraphs
    assert doc.title == HEADLINE  # the headline goes to the title column
    assert BODY[0] in kept and kept[kept.index(BODY[0]):][:len(BODY)] == BODY
    untitled = Cleaner(Config.model_validate({"title": {"enabled": False}})).clean(
        RawDocument("p", _page(), "page.txt", "page.txt", 0))
    at = untitled.paragraphs.index(HEADLINE)
    assert untitled.title is None and untitled.paragraphs[at + 1:at + 1 + len(BODY)] == BODY
    gone = {r.text for r in doc.removals}
    # The menu goes; its last item, right above the headline on a page of one block, is a toss-up
    # (content-v5 scores "Obituaries" 0.41 there), as is a short tail of other headlines and an address.
    assert set(NAV[:-1]) <= gone
    rows = [r for r in doc.removals if r.reason == "low_content"]
    assert len(rows) >= len(NAV) - 1 and all(r.rule == content.DEFAULT_MODEL and r.detail.startswith("score ") for r in rows)
    assert len(kept) + len(doc.removals) == doc.n_input_paragraphs


def test_long_lines_and_the_headline_are_protected():
    lines = _page().split("\n")
    model = content.load_model()
    # a threshold above every score removes all but the protected lines
    out, removals = content.judge("p", list(lines), model, threshold=1.01, protect_words=30)
    kept = [p for p in out if p is not None]
    assert kept == [HEADLINE] + BODY
    out, _ = content.judge("p", list(lines), model, threshold=1.01, protect_words=30, keep_headline=False)
    assert [p for p in out if p is not None] == BODY
    # a page on which every line scores low goes whole, unless ``empty_pages`` is off
    out, removals = content.judge("p", list(NAV), model, threshold=1.01, protect_words=30)
    assert out == [None] * len(NAV) and [r.text for r in removals] == NAV
    assert all(r.reason == "low_content" and r.detail.startswith("score ") for r in removals)
    out, removals = content.judge("p", list(NAV), model, threshold=1.01, protect_words=30, empty_pages=False)
    assert out == NAV and removals == []
    # one protected line is enough to keep a page from being emptied
    out, _ = content.judge("p", NAV + BODY[:1], model, threshold=1.01, protect_words=30)
    assert [p for p in out if p is not None] == BODY[:1]


def test_a_title_alone_is_not_left_of_a_page_without_content():
    page = [HEADLINE] + NAV + FOOT
    model = content.load_model()
    out, removals = content.judge("p", list(page), model, threshold=1.01, protect_words=30, keep_headline=False,
                                  take_title=True, given_title=HEADLINE)
    assert out == [None] * len(page) and [r.text for r in removals] == page
    assert {r.reason for r in removals} == {"low_content"}
    assert removals[0].detail.startswith(f"the title line of a page whose other {len(page) - 1} line(s)")
    # kept whole, the title still moves to the title column
    out, removals = content.judge("p", list(page), model, threshold=1.01, protect_words=30, keep_headline=False,
                                  take_title=True, given_title=HEADLINE, empty_pages=False)
    assert out == [None] + page[1:] and [(r.text, r.reason) for r in removals] == [(HEADLINE, "title")]
    # a page of a title alone is not judged: the title stays in the text
    out, removals = content.judge("p", [HEADLINE], model, threshold=1.01, protect_words=30, keep_headline=False,
                                  take_title=True, given_title=HEADLINE)
    assert out == [HEADLINE] and removals == []
    # through the cleaner: nothing is left, and every input paragraph is accounted for
    raw = RawDocument("p", "\n".join(page), "page.txt", "page.txt", 0, metadata=json.dumps({"title": HEADLINE}))
    doc = Cleaner(Config.model_validate({"content": {"threshold": 1.0}})).clean(raw)
    assert doc.paragraphs == [] and len(doc.removals) == doc.n_input_paragraphs == len(page)
    whole = Cleaner(Config.model_validate({"content": {"threshold": 1.0, "empty_pages": False}})).clean(raw)
    assert whole.title == HEADLINE and whole.paragraphs == page[1:]


def test_a_run_writes_an_emptied_page_as_an_empty_document(tmp_path):
    """Through the real flow: the page without a content line is no document of the dataset; its
    lines are in the removed table as low_content, the document as empty_document, and the counts
    reconcile; the article beside it keeps its body."""
    from conftest import assert_reconciles, read_dataset, run_flow

    rows = [{"id": "article", "text": "\n\n".join([HEADLINE, *BODY])},
            {"id": "menu", "text": "\n\n".join(NAV + FOOT)}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out"
    # a threshold above every score; the body's lines (30+ words) are protected
    config = Config.model_validate({"content": {"threshold": 1.0, "protect_words": 30}})
    counts = run_flow([src], out, config=config)
    assert_reconciles(out, counts)
    docs = read_dataset(out, "documents").to_pylist()
    assert [d["doc_id"] for d in docs] == ["article"] and docs[0]["text"].endswith("\n\n".join(BODY))
    removed = [r for r in read_dataset(out, "removed").to_pylist() if r["doc_id"] == "menu"]
    assert [r["text"] for r in removed if r["part"] == "paragraph"] == NAV + FOOT
    assert {r["reason"] for r in removed if r["part"] == "paragraph"} == {"low_content"}
    assert [r["reason"] for r in removed if r["part"] == "document"] == ["empty_document"]
    # switched off, the page is kept whole
    whole = run_flow([src], tmp_path / "whole", config=Config.model_validate(
        {"content": {"threshold": 1.0, "protect_words": 30, "empty_pages": False}}))
    assert_reconciles(tmp_path / "whole", whole)
    got = {d["doc_id"]: d["text"] for d in read_dataset(tmp_path / "whole", "documents").to_pylist()}
    assert whole["documents_out"] == 2 and got["menu"].startswith("\n\n".join(NAV))
    assert not [r for r in read_dataset(tmp_path / "whole", "removed").to_pylist()
                if r["doc_id"] == "menu" and r["reason"] == "low_content"]


# The same story in Japanese, written without spaces between words.
BODY_JA = [
    "県議会は火曜日、港通り図書館をさらに二年間開館し続けることを決め、夏の終わりに閉館して経費を節減するという計画を撤回した。",
    "議員らは、四千人を超える住民が署名した請願を受けて考えを改めたと述べ、建物は今後、地域の相談センターと共同で使い、運営費を抑えるという。",
    "図書館は年間およそ六万冊の本を貸し出し、子ども向けの読書会も開いている。保護者らは会合で、歩いて行ける範囲で無料の活動はこれだけだと訴えた。",
    "開館時間については、相談センターが暖房と清掃の費用の負担に同意した後、秋に最終決定すると議会は説明した。",
]
NAV_JA = ["ホーム", "ニュース", "地域", "スポーツ", "お問い合わせ", "サイトマップ"]


def test_unspaced_scripts_count_words_from_their_characters():
    assert content.unspaced_words("報道によると") == 3  # six characters
    assert content.unspaced_words("ホーム") == 1
    assert content.unspaced_words("图书馆开放") == 2
    assert content.unspaced_words("𠀀𠀁") == 1  # beyond the BMP too
    assert content.unspaced_words("한국어 뉴스 Harbour ภาษาไทย") == 0  # Korean and Thai are left as they are
    idx, x = content.features(BODY_JA + ["Harbour Road library"])
    words = np.expm1(x[:, content.FEATURES.index("words")])
    assert all(w >= 25 for w in words[:4]) and round(float(words[4])) == 3
    # as long as their English counterparts: protected from the model like them
    out, removals = content.judge("p", NAV_JA + BODY_JA, content.load_model(), threshold=1.01, protect_words=25)
    assert [p for p in out if p is not None] == BODY_JA


def test_bundled_model_keeps_a_japanese_article():
    page = "\n".join(NAV_JA + ["港通り図書館の存続が決定"] + BODY_JA + ["バス路線の廃止へ", "フェリー運賃が値上げ"])
    doc = Cleaner(Config()).clean(RawDocument("ja", page, "page.txt", "page.txt", 0))
    assert all(p in doc.paragraphs for p in BODY_JA)
    assert len(doc.paragraphs) + len(doc.removals) == doc.n_input_paragraphs


def test_line_model_can_be_switched_off():
    doc = Cleaner(Config.model_validate({"content": {"enabled": False}})).clean(
        RawDocument("p", _page(), "page.txt", "page.txt", 0))
    assert not [r for r in doc.removals if r.reason == "low_content"]


def test_block_features_see_hard_wrapped_paragraphs():
    from scrapewash.tasks.encoding import split_blocks

    text = "Home\nNews\n\nBetween 2015 and\n2018, 13% of children\nhad cavities.\n\nA closing line."
    paras, blocks = split_blocks(text)
    idx, x = content.features(paras, blocks)
    f = {name: x[:, content.FEATURES.index(name)] for name in content.FEATURES}
    assert f["block_lines"].tolist() == pytest.approx(np.log1p([2, 2, 3, 3, 3, 1]).tolist())
    assert f["block_index"].tolist() == pytest.approx(np.log1p([0, 1, 0, 1, 2, 0]).tolist())
    # the line before "2018, 13% ..." and "had cavities." in their block ends mid-sentence
    assert f["prev_open_in_block"].tolist() == [0, 1, 0, 1, 1, 0]
    assert f["open_in_block"].tolist() == [1, 0, 1, 1, 0, 0]
    assert f["doc_block_share"][0] == pytest.approx(3 / 6)
    # without blocks every line is its own block
    _, x1 = content.features(paras)
    assert x1[:, content.FEATURES.index("block_lines")].tolist() == pytest.approx([np.log1p(1)] * 6)
    assert x1[:, content.FEATURES.index("prev_open_in_block")].sum() == 0


def test_a_list_item_between_two_kept_items_stays():
    long = "- " + " ".join(["More than 9000 troops from 23 coalition members serve in Syria and Iraq"] * 4)
    short = "- Nearly 90,000 Iraqi Security Forces trained by the coalition"
    model = content.load_model()
    # threshold 1.0: the model would remove every line; the long items are protected (40+ words)
    current = [long, short, long, "Home"]
    out, rem = content.judge("d", list(current), model, 1.0, 40, keep_headline=False)
    assert out == [long, short, long, None]
    assert [r.paragraph_index for r in rem] == [3]
    out, _ = content.judge("d", list(current), model, 1.0, 40, keep_headline=False, keep_list_items=False)
    assert out[1] is None
    # not a list item, a list's first or last item, or an item next to a removed one: the model's call
    for cur in ([long, "Nearly 90,000 Iraqi Security Forces trained", long, "Home"],
                [short, long, "Home"], [long, short, "Home"], [long, short, "- Home", long]):
        out, _ = content.judge("d", list(cur), model, 1.0, 40, keep_headline=False)
        assert [p for p in out if p is not None] == [p for p in cur if p == long]
    # numbered items are list items too
    num = ["1. " + long[2:], "2. Nearly 90,000 trained", "3. " + long[2:]]
    out, _ = content.judge("d", list(num), model, 1.0, 40, keep_headline=False)
    assert out == num


def test_lead_in_of_a_long_line_in_its_block_is_protected():
    long = " ".join(["Cavusoglu has also met the attorney general and the national security adviser"] * 4) + "."
    current = ["Home", "Turkish Foreign Minister", long, "Contact us"]
    model = content.load_model()
    # threshold 1.0: the model would remove every line, so only the protections keep any
    out, rem = content.judge("d", list(current), model, 1.0, 40, keep_headline=False, blocks=[0, 1, 1, 2])
    assert out == [None, "Turkish Foreign Minister", long, None]
    assert [r.paragraph_index for r in rem] == [0, 3]
    # a blank line between them, or the protection off: the short line is the model's to judge
    out, _ = content.judge("d", list(current), model, 1.0, 40, keep_headline=False, blocks=[0, 1, 2, 3])
    assert out[1] is None and out[2] == long
    out, _ = content.judge("d", list(current), model, 1.0, 40, keep_headline=False, blocks=[0, 1, 1, 2],
                           keep_lead_in=False)
    assert out[1] is None


def _context_reference(p: np.ndarray, words: np.ndarray) -> np.ndarray:
    """content.CONTEXT_FEATURES of one page, written out column by column with numpy."""
    m = len(p)
    pos = np.arange(m)
    pad = np.concatenate([np.full(3, -1.0), p, np.full(3, -1.0)])
    shifted = [pad[3 + off:3 + off + m] for off in (-3, -2, -1, 1, 2, 3)]

    def mean_around(r, values, weights=None):
        w = np.ones(m) if weights is None else weights
        out = []
        for i in range(m):
            lo, hi = max(i - r, 0), min(i + r + 1, m)
            out.append((values[lo:hi] * w[lo:hi]).sum() / max(w[lo:hi].sum(), 1.0 if weights is not None else 0))
        return np.array(out)

    high = p >= 0.5
    hi = np.flatnonzero(high)
    rank = np.empty(m)
    rank[np.argsort(p, kind="stable")] = (np.arange(m) + 0.5) / m
    if len(hi):
        first, last = hi[0], hi[-1]
        span = [(pos >= first) & (pos <= last), np.log1p(np.abs(pos[:, None] - hi[None, :]).min(axis=1)),
                np.log1p(np.maximum(first - pos, 0)), np.log1p(np.maximum(pos - last, 0))]
    else:
        span = [np.zeros(m)] + [np.full(m, math.log1p(m))] * 3
    hw = np.where(high, words, 0.0)
    total = max(hw.sum(), 1.0)
    cols = [p, *shifted, mean_around(2, p), mean_around(5, p), np.full(m, p.mean()), np.full(m, p.max()),
            np.full(m, p.std()), np.full(m, high.mean()), rank, *span,
            (np.cumsum(hw) - hw) / total, (hw.sum() - np.cumsum(hw)) / total,
            mean_around(3, p, words), p - p.mean()]
    return np.column_stack(cols).astype(np.float32)


def test_context_features_of_first_pass_scores():
    p = np.array([0.1, 0.9, 0.2, 0.7, 0.05])
    x = np.zeros((5, len(content.FEATURES)), dtype=np.float32)
    x[:, content.FEATURES.index("words")] = np.log1p([3, 20, 5, 30, 2])
    c = {n: col.tolist() for n, col in zip(content.CONTEXT_FEATURES, content.context_features(p, x).T, strict=True)}
    assert c["ctx_prev"] == pytest.approx([-1, 0.1, 0.9, 0.2, 0.7])
    assert c["ctx_next3"] == pytest.approx([0.7, 0.05, -1, -1, -1])
    assert c["ctx_in_span"] == [0, 1, 1, 1, 0]  # from the first line scored 0.5 or more to the last
    assert c["ctx_span_distance"] == pytest.approx(np.log1p([1, 0, 1, 0, 1]).tolist())
    assert c["ctx_rank"] == pytest.approx([0.3, 0.9, 0.5, 0.7, 0.1])
    # of the 50 words on high lines, 20 are above the fourth line and none below it
    assert c["ctx_words_before"][3] == pytest.approx(0.4) and c["ctx_words_after"][3] == 0
    assert c["ctx_doc_high"] == pytest.approx([0.4] * 5)
    assert content.context_features(np.zeros(0), x[:0]).shape == (0, len(content.CONTEXT_FEATURES))
    # no high line: the span signals say "far away"
    low = content.context_features(np.full(3, 0.2), x[:3])
    assert low[:, content.CONTEXT_FEATURES.index("ctx_in_span")].tolist() == [0, 0, 0]
    assert low[:, content.CONTEXT_FEATURES.index("ctx_span_distance")].tolist() == pytest.approx([math.log1p(3)] * 3)


def test_context_features_equal_their_reference():
    rng = np.random.default_rng(3)
    for m in [1, 2, 3, 7, 12, 40, 200]:
        for _ in range(20):
            p = rng.random(m) if rng.random() < 0.7 else rng.choice([0.1, 0.5, 0.9], m)  # ties too
            words = rng.integers(0, 80, m).astype(np.float64)
            x = np.zeros((m, len(content.FEATURES)), dtype=np.float32)
            x[:, content.FEATURES.index("words")] = np.log1p(words)
            got = content.context_features(p, x)
            assert np.allclose(got, _context_reference(p, words), rtol=1e-6, atol=1e-6), m


def test_a_two_stage_model_reads_the_first_stages_scores_of_the_page():
    first = {"name": "f", "version": 1, "features": ["words"], "base_score": 0.0,
             "trees": [{"feature": [0, 0, 0], "threshold": [math.log1p(10), 0, 0], "left": [1, -1, -1],
                        "right": [2, -1, -1], "value": [0, -3.0, 3.0]}]}  # long lines score high
    # second stage: a line inside the span of high lines is content, whatever its own length
    spec = {"name": "s", "version": 1, "features": ["words", "ctx_in_span"], "base_score": 0.0, "first": first,
            "trees": [{"feature": [1, 0, 0], "threshold": [0.5, 0, 0], "left": [1, -1, -1],
                       "right": [2, -1, -1], "value": [0, -2.0, 2.0]}]}
    model = content.ContentModel(spec)
    x = np.zeros((5, len(content.FEATURES)), dtype=np.float32)
    x[:, content.FEATURES.index("words")] = np.log1p([2, 30, 3, 30, 2])
    rows = model.page_rows(x)
    assert rows.shape == (5, len(content.ALL_FEATURES)) and rows.dtype == np.float32
    assert np.array_equal(rows[:, :len(content.FEATURES)], x)
    assert model.margin(rows).tolist() == [-2.0, 2.0, 2.0, 2.0, -2.0]
    assert model.margin_reference(rows).tolist() == [-2.0, 2.0, 2.0, 2.0, -2.0]
    # a one-stage model may not ask for context, which only a first stage gives
    with pytest.raises(ValueError, match="does not compute.*'ctx_in_span'"):
        content.ContentModel({k: v for k, v in spec.items() if k != "first"})
    out, removals = content.judge("d", ["Home", "a " * 30, "Short one", "b " * 30, "Contact"], model, 0.5, 40,
                                  keep_headline=False)
    assert out[2] == "Short one" and out[0] is None and out[4] is None
    assert all(r.detail.startswith("score 0.12 < 0.50") for r in removals)
    # the detail names the signals of both stages (this model's importances are empty: no signal)
    assert all(r.detail.endswith(" | first pass: ") for r in removals)
    page = _page().split("\n")
    _, removals = content.judge("p", page, content.load_model(), 0.4, 40, keep_headline=False)
    assert removals and all(" | first pass: " in r.detail and "first pass 0." in r.detail for r in removals)


def test_the_previous_one_stage_model_still_loads():
    old = content.load_model("content-v5")
    assert old.first is None and old.features == content.FEATURES
    x = content.features(_page().split("\n"))[1]
    assert old.page_rows(x) is x
