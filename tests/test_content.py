"""The line model: features, tree evaluation, and what it removes from a hand-made page dump."""

from __future__ import annotations

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
    # never empties a page on the model's word alone
    out, removals = content.judge("p", list(NAV), model, threshold=1.01, protect_words=30)
    assert out == NAV and removals == []


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
