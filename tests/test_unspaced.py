"""Chinese, Japanese and Thai: scripts written without spaces between words.

A ``\\w+`` run of them is a whole clause, so word shingles of such a page change wholesale with one
edited character and a paragraph counts as one word (never long enough to judge as a copy). Their
characters are tokens of their own (shingles are character n-grams there), and a paragraph's word
count adds one word per two of their characters.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import SAMPLES, assert_reconciles, read_dataset, run_flow
from scrapewash.tasks import index, minhash

FLOOD = """河畔市遭遇百年一遇洪水 数千居民紧急撤离

本报讯 受连日强降雨影响，河畔市主要河流水位持续上涨，周二凌晨多处堤坝出现险情，市政府随即启动一级应急响应。

据市防汛指挥部介绍，截至昨日下午，全市已有超过三千名居民被转移至安全地带，临时安置点设在各区的学校和体育馆内，食品、饮用水和药品供应充足。

气象部门表示，本轮降雨过程累计雨量已突破历史同期纪录，预计未来两天仍将有中到大雨，部分地区可能出现暴雨，提醒市民减少外出，远离河道和低洼地带。

在老城区，不少沿街商铺被洪水淹没，店主们一边清理淤泥，一边清点损失。一位经营杂货店三十多年的老人说，他从未见过这么大的水。

市长在现场办公会上表示，当前首要任务是确保人民群众生命安全，各部门要加强巡查，及时排除隐患，同时做好灾后重建的准备工作。

交通部门已对城区内十二条道路实施临时管制，多条公交线路改道运行。铁路部门也宣布，途经河畔站的部分列车将晚点或停运。

专家指出，近年来极端天气事件明显增多，城市排水系统和防洪设施的建设标准需要重新评估，以应对今后可能出现的更大挑战。"""

LIBRARY = """市图书馆明年起缩短开放时间 读者担忧阅读服务受影响

市文化局日前发布通知，受财政预算调整影响，市图书馆及其下属的八个分馆将从明年一月起缩短开放时间，周一全天闭馆，其余各天晚间提前两小时关门。

通知发布后，不少读者在社交媒体上表达了不满。一位经常带孩子去分馆参加周末故事会的家长表示，晚间提前闭馆意味着上班族几乎没有时间借书还书。

图书馆负责人解释说，今年的运营经费比去年减少了百分之十五，为了保证图书采购和数字资源建设不受影响，只能在人员和开放时间上做出调整。

据了解，图书馆将同时延长自助借还机的服务时间，并在部分社区增设二十四小时自助借阅柜，尽量减少对读者的影响。

有市人大代表建议，应当通过引入社会捐赠和志愿者服务等方式弥补经费缺口，而不是简单地压缩公共文化服务的时间。"""

BRIDGE = """老朽化した川沿いの橋、来月から全面通行止めに

市は十日、築六十年を超える川沿いの歩道橋について、来月一日から約半年間、全面通行止めにして大規模な補修工事を行うと発表した。

市によると、今年の定期点検で橋脚の一部にひび割れや鉄筋の腐食が見つかり、このまま使い続けると安全性を確保できないおそれがあると判断したという。

工事期間中は、約五百メートル下流にある別の橋を迂回路として利用するよう呼びかけている。通学路として使っている小学校には、市の職員が直接出向いて説明する予定だ。

近くに住む七十代の女性は、毎日買い物に使う道なので不便になるが、安全のためなら仕方がないと話していた。

市は、工事が順調に進めば来年の春には再び通れるようになる見込みだとしている。"""


def _copy_zh(text: str) -> str:
    """The same story on another site: a new headline, a wire dateline, a few words changed, the last
    paragraph dropped."""
    paras = text.split("\n\n")
    body = "\n\n".join(paras[1:-1])
    body = (body.replace("本报讯", "新华社河畔11月3日电").replace("超过三千名", "三千多名")
            .replace("老人说", "老人表示").replace("首要任务", "最重要的任务"))
    return "洪水来袭：河畔市三千余人转移\n\n" + body


def _copy_ja(text: str) -> str:
    paras = text.split("\n\n")
    body = "\n\n".join(paras[1:-1])
    body = body.replace("市は十日、", "【共同】市は十日、").replace("約半年間", "およそ半年間").replace("話していた", "語った")
    return "歩道橋、来月から通行止め　半年かけて補修\n\n" + body


def _clause_jaccard(a: str, b: str) -> float:
    """Jaccard of word 3-shingles with ``\\w+`` runs as tokens (what a Chinese page got before)."""
    def sh(t: str) -> set[tuple[str, ...]]:
        toks = re.findall(r"\w+", t.lower())
        return {tuple(toks[i:i + 3]) for i in range(max(1, len(toks) - 2))}
    x, y = sh(a), sh(b)
    return len(x & y) / len(x | y)


def _write(path: Path, recs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def test_tokens_of_scripts_without_spaces_are_characters():
    assert minhash.tokens("Hello 世界，東京タワーは Big ok_2") == ["hello", "世", "界", "東", "京", "タ", "ワ", "ー", "は",
                                                                "big", "ok_2"]
    # Thai: every word character a token (combining vowel and tone marks are no word characters)
    assert minhash.tokens("ภาษาไทย") == ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]
    # Korean is written with spaces: its words stay whole, as do Latin, Cyrillic, Greek, Arabic words
    assert minhash.tokens("한국어 문장 Привет мир αβγ سلام") == ["한국어", "문장", "привет", "мир", "αβγ", "سلام"]
    # punctuation of these scripts is no token; characters beyond the BMP are
    assert minhash.tokens("「こんにちは」、世界。𠀋") == ["こ", "ん", "に", "ち", "は", "世", "界", "𠀋"]
    for text in (FLOOD, BRIDGE, "Mixed 文本 with ภาษา and ascii"):
        assert np.array_equal(minhash.text_token_hashes(text), minhash.token_hashes(minhash.tokens(text)))
        th, off = minhash.texts_token_hashes([text, "plain ascii text", text])
        assert np.array_equal(th[off[0]:off[1]], minhash.text_token_hashes(text))
        assert np.array_equal(th[off[2]:off[3]], minhash.text_token_hashes(text))


def test_word_counts_of_scripts_without_spaces():
    assert minhash.word_count("The council met on Tuesday.") == 5
    sentence = "受连日强降雨影响，河畔市主要河流水位持续上涨。"  # 21 characters, one whitespace word
    assert minhash.char_tokens(sentence) == 21
    assert minhash.word_count(sentence) == 1 + 21 // 2
    assert minhash.word_count("東京 タワー") == 2 + 5 // 2
    texts = [sentence, "plain words here", "混合 mixed 文本", "“curly” — quotes, no such script"]
    assert minhash.word_counts(texts) == [1 + 10, 3, 3 + 2, 6]
    assert minhash.word_counts(texts[1:2] + texts[3:]) == [3, 6]
    assert not minhash.may_have_char_tokens(texts[3]) and minhash.may_have_char_tokens(texts[2])
    assert minhash.may_have_char_tokens("ภาษา") and minhash.may_have_char_tokens("𠀋")


def test_chinese_and_japanese_syndicated_copies_are_found(tmp_path):
    zh_copy, ja_copy = _copy_zh(FLOOD), _copy_ja(BRIDGE)
    # copies that clause tokens would miss (below the 0.7 threshold) ...
    assert _clause_jaccard(FLOOD, zh_copy) < 0.6 and _clause_jaccard(BRIDGE, ja_copy) < 0.6
    recs = [
        {"id": "zh-flood", "url": "https://news.example.cn/a/1", "text": FLOOD},
        {"id": "zh-library", "url": "https://news.example.cn/a/2", "text": LIBRARY},
        {"id": "ja-bridge", "url": "https://shimbun.example.jp/n/1", "text": BRIDGE},
        {"id": "zh-flood-copy", "url": "https://wire.example.com/zh/9", "text": zh_copy},
        {"id": "ja-bridge-copy", "url": "https://wire.example.com/ja/9", "text": ja_copy},
    ]
    out = tmp_path / "out"
    counts = run_flow([_write(tmp_path / "in.jsonl", recs)], out, run_id="r1")
    assert_reconciles(out, counts)
    removed = read_dataset(out, "removed", "r1").to_pylist()
    whole = {r["doc_id"]: r for r in removed if r["part"] == "document"}
    assert set(whole) == {"zh-flood-copy", "ja-bridge-copy"}, whole
    assert whole["zh-flood-copy"]["reason"] == "near_duplicate_document"
    assert whole["zh-flood-copy"]["duplicate_of"] == "zh-flood"
    assert whole["ja-bridge-copy"]["duplicate_of"] == "ja-bridge"
    assert all(0.7 <= whole[k]["similarity"] <= 1.0 for k in whole)
    kept = read_dataset(out, "documents", "r1")
    assert set(kept["doc_id"].to_pylist()) == {"zh-flood", "zh-library", "ja-bridge"}
    # the originals keep their body, paragraph for paragraph (whether a headline stays is the line model's call)
    texts = dict(zip(kept["doc_id"].to_pylist(), kept["text"].to_pylist(), strict=True))
    for doc_id, text in (("zh-flood", FLOOD), ("ja-bridge", BRIDGE), ("zh-library", LIBRARY)):
        assert texts[doc_id].endswith("\n\n".join(text.split("\n\n")[1:])), doc_id


def test_chinese_paragraph_quoted_by_another_document_is_a_duplicate_paragraph(tmp_path):
    quoted = FLOOD.split("\n\n")[2]  # one paragraph of 70-odd characters: one whitespace word
    assert len(quoted.split()) == 1 and minhash.word_count(quoted) >= 30
    other = FLOOD.split("\n\n")[3]  # and a near copy of another of its paragraphs
    recs = [
        {"id": "flood", "url": "https://news.example.cn/a/1", "text": FLOOD},
        {"id": "library", "url": "https://other.example.cn/b/1", "text": LIBRARY + "\n\n" + quoted},
        {"id": "bridge", "url": "https://third.example.jp/c/1",
         "text": BRIDGE + "\n\n" + other.replace("两天", "三天").replace("提醒", "并提醒")},
    ]
    out = tmp_path / "out"
    counts = run_flow([_write(tmp_path / "in.jsonl", recs)], out, run_id="r1")
    assert_reconciles(out, counts)
    rows = [r for r in read_dataset(out, "removed", "r1").to_pylist() if r["reason"] == "duplicate_paragraph"]
    by_doc = {r["doc_id"]: r for r in rows}
    assert set(by_doc) == {"library", "bridge"}, rows
    assert by_doc["library"]["text"] == quoted and by_doc["library"]["duplicate_of"] == "flood"
    assert by_doc["library"]["similarity"] == 1.0
    assert by_doc["bridge"]["duplicate_of"] == "flood" and 0.7 <= by_doc["bridge"]["similarity"] < 1.0


def _set_index_version(out: Path, run_id: str, version: int) -> None:
    for f in (out / "_index" / "documents" / run_id).glob("*.parquet"):
        t = pq.read_table(f)
        md = dict(t.schema.metadata)
        params = json.loads(md[b"scrapewash.index_params"])
        params["version"] = version
        md[b"scrapewash.index_params"] = json.dumps(params).encode()
        pq.write_table(t.replace_schema_metadata(md), f)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_version_1_index_is_still_read_and_its_documents_counted(tmp_path):
    out = tmp_path / "out"
    articles = [json.loads(x) for x in (SAMPLES / "articles.jsonl").read_text().splitlines() if x.strip()]
    run_flow([_write(tmp_path / "a.jsonl", articles)], out, run_id="batch-a")
    _set_index_version(out, "batch-a", 1)
    n_index = pq.read_table(out / "_index" / "documents" / "batch-a").num_rows
    kept_a = set(read_dataset(out, "documents", "batch-a")["doc_id"].to_pylist())
    original = next(r for r in articles if r["id"] in kept_a and len(r["text"].split()) > 200)
    paras = original["text"].split("\n\n")
    copy = {"id": "copy", "url": "https://syndicator.example/1", "text": "\n\n".join(paras[1:])}
    records = _Records()
    flow_logger = logging.getLogger("prefect.flow_runs")  # the run logger's (Prefect does not propagate it)
    flow_logger.addHandler(records)
    try:
        b = run_flow([_write(tmp_path / "b.jsonl", [copy, {"id": "zh", "url": "https://news.example.cn/a/1",
                                                          "text": FLOOD}])], out, run_id="batch-b")
    finally:
        flow_logger.removeHandler(records)
    assert b["dedup"]["duplicates_of_earlier_runs"] == 1  # English signatures are the same in both versions
    assert b["dedup"]["index_documents_v1"] == n_index
    assert any("index version 1" in m for m in records.messages), records.messages
    from scrapewash.flows.clean_corpus import summary_rows

    assert dict(summary_rows(b))["index documents signed by version 1 (Chinese, Japanese, Thai not comparable)"] \
        == n_index
    # the new run's index part is version 2
    assert read_dataset(out, "documents", "batch-b")["doc_id"].to_pylist() == ["zh"]
    f = next((out / "_index" / "documents" / "batch-b").glob("*.parquet"))
    assert json.loads(pq.read_schema(f).metadata[b"scrapewash.index_params"])["version"] == index.INDEX_VERSION == 2


@pytest.mark.parametrize("version", [0, 3])
def test_an_index_of_an_unknown_version_is_refused(tmp_path, version):
    out = tmp_path / "out"
    run_flow([SAMPLES / "articles.jsonl"], out, run_id="r1")
    _set_index_version(out, "r1", version)
    other = _write(tmp_path / "x.jsonl", [{"id": "x", "text": "A story of enough words to be signed. " * 10}])
    with pytest.raises(Exception, match="MinHash settings"):
        run_flow([other], out, run_id="r2")


def test_the_byte_check_never_misses_a_character_of_those_scripts():
    """The precheck reads UTF-8 lead bytes: every range's first and last character (and one in the
    middle) is seen, with or without ASCII and typography around it, and text of other scripts with
    curly quotes and dashes is not."""
    for lo, hi in minhash.CHAR_TOKEN_RANGES:
        for o in (lo, (lo + hi) // 2, hi):
            for text in (chr(o), f"“Quote” — {chr(o)} end", "a" * 100 + chr(o)):
                assert minhash.may_have_char_tokens(text), hex(o)
                if re.fullmatch(r"\w", chr(o)):
                    assert minhash.char_tokens(text) == 1, hex(o)
    for text in ("“Quote” — naïve café, Привет, Ελλάδα, 한국어, العربية, עברית…", "plain"):
        assert not minhash.may_have_char_tokens(text)
        assert minhash.word_count(text) == len(text.split())
