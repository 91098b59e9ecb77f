"""Rule packs: well-formed, every example removed, no counter-example touched, content kept."""

from __future__ import annotations

import os
import re

import pytest

from scrapewash.tasks.boilerplate import RuleError, RuleSet, load_pack, load_rules, match_form, pack_files

RULES = load_rules()
ALL = [r for p in RULES.packs for r in p.rules]
REQUIRED_PACKS = {"donation", "comments", "subscription", "social", "newsletter", "legal", "credits",
                  "timestamps", "navigation", "widgets"}


def test_packs_present_versioned_and_ids_unique():
    assert {p.id for p in RULES.packs} >= REQUIRED_PACKS
    ids = [r.id for r in ALL]
    assert len(ids) == len(set(ids))
    for p in RULES.packs:
        assert isinstance(p.version, int) and p.version >= 1
        assert p.rules, p.id
        for r in p.rules:
            assert r.id.startswith(p.id + "/") and r.description


def test_no_named_groups_or_backreferences():
    for r in ALL:
        assert not r.regex.groupindex, r.id
        assert not re.search(r"\\[1-9]", r.pattern), r.id


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.id)
def test_examples_removed_by_their_rule(rule):
    assert len(rule.examples) >= 2, "every rule documents at least two examples"
    for i, ex in enumerate(rule.examples):
        paras = [ex]
        if rule.min_run > 1 or rule.min_count > 1:
            paras = [ex] * max(rule.min_run, rule.min_count)
        if rule.where in ("tail", "edge"):
            paras = ["An article sentence that is long enough to be content, nothing else here."] * 6 + paras
        out, removals = RULES.apply("d", paras)
        hit = [r for r in removals if r.paragraph_index == len(paras) - 1]
        assert hit, f"{rule.id} example not removed: {ex!r}"
        if rule.mode == "paragraph":
            assert hit[0].rule == rule.id or hit[0].part == "paragraph", ex
        else:
            assert hit[0].part == "fragment"
            if rule.example_results:
                assert out[-1] == rule.example_results[i]


def test_counter_examples_untouched_by_any_rule():
    n = 0
    for p in RULES.packs:
        for r in p.rules:
            for ce in r.counter_examples:
                out, removals = RULES.apply("d", [ce])
                assert removals == [], f"{ce!r} removed by {removals[0].rule}"
                n += 1
    assert n >= 30


@pytest.mark.parametrize("sentence", [
    "The council said it would consider comments from residents until May.",
    "The museum relies on donations from about 2,500 members, its director said.",
    "Regulators fined the company for setting tracking cookies without consent.",
    "Readers can subscribe to the newsletter, the editor told the meeting, but few do.",
    "Share prices fell 4% after the announcement.",
    "Follow-up inspections are planned for next year.",
    "Sites that use tracking cookies must now ask first, and you may have the right to opt out, the regulator said.",
    "Our reporters found that 40 of the 50 sites we visited set advertising cookies before anyone clicked.",
    "Publishers say the browser's new limits on third-party cookies will cut what advertisers pay them.",
    "Last modified by the committee in 2019, the rules now need a full review, officials said.",
])
def test_article_sentences_mentioning_boilerplate_topics_stay(sentence):
    out, removals = RULES.apply("d", ["Headline of the story", sentence, "Another sentence of the article body."])
    assert removals == [] and out[1] == sentence


def test_consent_dialog_text_goes_and_a_recipe_keeps_its_cookies():
    page = [
        "Brown butter oatmeal cookies",
        "These cookies are crisp at the edges and soft in the middle, and they keep for a week in a tin.",
        "These cookies help use up the oats at the back of the cupboard, and they freeze well.",
        "Privacy Preference Center",
        "When you visit any website, it may store or retrieve information on your browser, mostly in the form of "
        "cookies. This information might be about you, your preferences or your device.",
        "These cookies are necessary for the website to function and cannot be switched off in our systems.",
        "These cookies allow us to count visits and traffic sources so we can measure and improve the performance "
        "of our site.",
        "Store and/or access information on a device 112 partners can use this purpose",
    ]
    out, removals = RULES.apply("d", page)
    assert out[:3] == page[:3]
    assert out[3:] == [None] * 5
    assert [r.rule for r in removals if r.paragraph_index >= 4] == ["legal/consent-dialog"] * 4
    # a report on tracking keeps its sentence: the cookies are not the site's own
    report = "These cookies track users across sites and build a profile of their interests, the lawsuit says."
    assert RULES.apply("d", [page[0], report])[0][1] == report


def test_tracking_notices_go_and_reporting_on_tracking_stays():
    page = [
        "Harbour Outfitters waxed jacket",
        "A waxed cotton jacket with a corduroy collar, two bellows pockets and a storm flap.",
        "To remember your basket, measure how the shop is used and show you offers on other sites, we and our "
        "advertising partners use cookies and similar technologies.",
        "With our cookies we would like to make your visit easier, for example by remembering your size.",
        "Cookies and similar technologies are used to improve your experience and keep you signed in.",
        "Example Analytics sets this cookie to tell one visit from the next.",
        "Targeted advertising may be considered a \"sale\" under some state privacy laws, and you can turn it off.",
        "Your choices apply only to this browser; if you clear your cookies you will be asked again.",
    ]
    out, removals = RULES.apply("d", page)
    assert out[:2] == page[:2]
    assert out[2:] == [None] * 6
    assert [r.rule for r in removals] == ["legal/tracking-notice"] * 4 + ["legal/privacy-rights-notice"] * 2
    # the same subjects in reporting, a developer's guide and a kitchen keep their sentences
    for kept in [
        "Advertisers used tracking cookies to follow readers from site to site, the lawsuit alleges.",
        "To keep users signed in, your app sets a cookie on the first response and reads it on every request.",
        "We use cookies from the bakery next door for the base, and the dough keeps for a week.",
        "Consumers may have the right to opt out of the sale of their data under the new law, the attorney "
        "general said.",
    ]:
        assert RULES.apply("d", [page[0], kept])[0][1] == kept, kept


def test_match_form_folds_typography():
    assert match_form("Don’t miss — “this” …") == "Don't miss - \"this\" ..."


def test_bad_pack_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[pack]\nid = "x"\nversion = 1\n[[rule]]\nid = "y/z"\npattern = "a"\n')
    with pytest.raises(RuleError, match="must start with 'x/'"):
        load_pack(bad)
    bad.write_text('[pack]\nid = "x"\nversion = 1\n[[rule]]\nid = "x/z"\npattern = "(a"\n')
    with pytest.raises(RuleError, match="bad pattern"):
        load_pack(bad)
    with pytest.raises(RuleError, match="unknown rule ids"):
        RuleSet([load_pack(pack_files()[0])], disabled=["nope/nope"])


def test_disable_rule_and_extra_pack(tmp_path):
    (tmp_path / "house.toml").write_text(
        '[pack]\nid = "house"\nversion = 3\n[[rule]]\nid = "house/motto"\ndescription = "d"\n'
        "pattern = '''the best news in town'''\nexamples = ['The best news in town', 'THE BEST NEWS IN TOWN']\n")
    rs = load_rules(extra_dirs=[str(tmp_path)])
    assert rs.versions["house"] == 3
    _, rem = rs.apply("d", ["The best news in town"])
    assert rem[0].rule == "house/motto"
    rs = load_rules(extra_dirs=[str(tmp_path)], disabled=["house/motto"])
    assert rs.apply("d", ["The best news in town"])[1] == []


def test_rule_set_shared_until_a_pack_changes(tmp_path):
    pack = tmp_path / "house.toml"

    def write(version: int, phrase: str) -> None:
        pack.write_text(f'[pack]\nid = "house"\nversion = {version}\n[[rule]]\nid = "house/motto"\n'
                        f'description = "d"\npattern = "{phrase}"\n')

    write(1, "the best news in town")
    first = load_rules(extra_dirs=[str(tmp_path)])
    assert load_rules(extra_dirs=[str(tmp_path)]) is first  # the shards of a run share one
    assert first.apply("d", ["The best news in town"])[1][0].rule == "house/motto"
    # A long-lived worker picks up an edited pack at its next run.
    write(2, "the only news in town")
    st = pack.stat()
    os.utime(pack, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = load_rules(extra_dirs=[str(tmp_path)])
    assert second is not first and second.versions["house"] == 2
    assert second.apply("d", ["The best news in town"])[1] == []
    assert second.apply("d", ["The only news in town"])[1][0].rule == "house/motto"


ARTICLE = [
    "Harbour dredging approved",
    "The harbour authority approved a plan on Monday to dredge the northern channel before the autumn storms, "
    "a project expected to take eleven weeks and cost about four million euros, officials said.",
    "Fishing crews said the silt had made the entrance dangerous at low tide for most of the summer season, "
    "and several boats had run aground since June, according to the harbour master's records.",
    "Work will start once the environmental permit arrives, which officials expect within a fortnight.",
]


def test_comment_section_goes_as_a_block():
    comments = ["3 Comments", "Mary K. says:", "This is long overdue, thank you for reporting on it.",
                "June 3, 2026 at 9:14 am", "Tom says:", "Agreed, the channel has been a disgrace for years."]
    out, rem = RULES.apply("d", ARTICLE + comments)
    assert out[: len(ARTICLE)] == ARTICLE
    assert all(p is None for p in out[len(ARTICLE):])
    block = [r for r in rem if r.paragraph_index >= len(ARTICLE)]
    assert len(block) == len(comments)
    section = [r for r in block if r.rule == "comments/header-count"]
    assert len(section) >= len(comments) - 1  # a line may be some other rule's first (the date)
    assert "in the section under '3 Comments'" in block[-1].detail


def test_comment_header_early_or_repeated_is_not_a_section():
    early = ["Harbour dredging approved", "2 Comments"] + ARTICLE[1:]
    out, rem = RULES.apply("d", early)
    assert [r.paragraph_index for r in rem] == [1] and out[2:] == ARTICLE[1:]
    listing = ARTICLE + ["4 Comments", ARTICLE[1], "7 Comments", ARTICLE[2]]
    out, rem = RULES.apply("d", listing)
    assert out[-1] == ARTICLE[2] and out[-3] == ARTICLE[1]


def test_a_comments_header_needs_a_third_of_the_body_before_it_a_replies_header_half():
    # the article's body: two long paragraphs (37 % of the page's body text), then the header, then comments
    comments = ["I have fished out of that harbour for years and the silt has never been this bad, "
                "the council should have acted long before the boats started running aground in June.",
                "Agreed. The crews have been asking for this since the spring storms, and nobody listened "
                "until a trawler was stuck on the bar for a whole tide with its catch on board."] * 2
    body = ARTICLE[:3]
    for header, goes in (("Comments", True), ("12 Comments", True), ("5 Replies", False), ("Responses", False)):
        out, rem = RULES.apply("d", body + [header] + comments)
        assert out[: len(body)] == body
        gone = [p is None for p in out[len(body) + 1:]]
        assert gone == [goes] * len(comments), header
        assert rem[0].paragraph_index == len(body) and rem[0].rule == (
            "comments/header-count" if "omment" in header else "comments/header-replies")
    # one long paragraph before the header (23 % of the body text): a share-bar counter or a thread's
    # first post, and what follows stays
    out, rem = RULES.apply("d", body[:2] + ["Comments"] + comments)
    assert out[3:] == comments


def test_replies_greeting_commenters_make_a_short_posts_comments_header_a_section():
    # one body paragraph, then a thread many times its length whose replies greet the commenters
    long_question = ("I read your report on the harbour and did not see any analysis of what the dredging "
                     "will do to the mussel beds at the mouth of the channel, which matter to the crews.")
    long_answer = ("Our best guess is that the effect on the beds is small; the permit requires the works "
                   "to stop if the silt plume reaches them, and the authority will publish its surveys.")
    post = ARTICLE[:2]
    thread = ["Any news on the permit?", "Hi Milan,", long_answer, long_question, "Hi Alex,", long_answer,
              long_question, long_question, "Hello Mary Kay,", long_answer]
    out, rem = RULES.apply("d", post + ["Comments"] + thread)
    assert out[: len(post)] == post and all(p is None for p in out[len(post):])
    assert {r.rule for r in rem} == {"comments/header-count"}
    # greetings in the languages the header is matched in
    other = [{"Hi Milan,": "Olá Karol,", "Hi Alex,": "Hallo Jens,", "Hello Mary Kay,": "Bonjour Anne,"}.get(p, p)
             for p in thread]
    out, _ = RULES.apply("d", post + ["Comentários"] + other)
    assert out[: len(post)] == post and all(p is None for p in out[len(post):])
    # two greetings are not enough, and without the header nothing goes as a section
    two = [p for p in thread if p != "Hello Mary Kay,"][:-2]
    out, _ = RULES.apply("d", post + ["Comments"] + two)
    assert out[len(post) + 1:] == two
    out, rem = RULES.apply("d", post + thread)
    assert out == post + thread and rem == []
    # the first greeting far from the header: a share-bar counter at the top of a page with a thread
    # further down, so the article under the counter stays
    far = post + ["12 Comments"] + [long_question] * 6 + thread
    out, rem = RULES.apply("d", far)
    assert [r.paragraph_index for r in rem] == [len(post)]
    # greetings of things, not people, and a replies header (a forum thread's) open no section
    output = {"Hi Milan,": "hello 1 started", "Hi Alex,": "hello 2 started", "Hello Mary Kay,": "hello 1 done"}
    for header, lines in (("Comments", [output.get(p, p) for p in thread]), ("5 Replies", thread)):
        out, _ = RULES.apply("d", post + [header] + lines)
        assert out[len(post) + 1:] == lines, header


COMMENTS = [
    "Amy says", "Brilliant piece, I had no idea the channel was in such a state.",
    "Tom Baker says:", "My father fished out of that harbour for forty years and never saw it this bad. "
    "The council has ignored the silt for too long and the crews have paid for it every single winter.",
    "Jill says", "Thank you both! We will follow the works and report back.",
    "Kathy Owen says: July 15, 2026 at 9:12 am", "Any news on the permit?",
]


def test_signed_comments_go_as_a_section_even_when_longer_than_the_article():
    short_article = ARTICLE[:2]  # one body paragraph: the comments carry more text than the article
    out, rem = RULES.apply("d", short_article + COMMENTS)
    assert out[: len(short_article)] == short_article
    assert all(p is None for p in out[len(short_article):])
    assert {r.rule for r in rem} == {"comments/attribution"}
    assert rem[0].paragraph_index == len(short_article) and rem[0].detail.startswith("The line that signs")
    assert rem[-1].detail == "in the section under 'Amy says'"


def test_signatures_count_only_when_they_recur():
    two = COMMENTS[:4]  # two signed lines: an interview's 'Name says' is not a comment list
    out, rem = RULES.apply("d", ARTICLE + two)
    assert rem == [] and out == ARTICLE + two
    out, rem = RULES.apply("d", ARTICLE + COMMENTS[:6])
    assert [p for p in out if p is not None] == ARTICLE


def test_signed_posts_from_the_top_of_the_page_are_a_thread_not_a_comment_section():
    thread = ["Harbour dredging: any news?"] + COMMENTS + ARTICLE[1:3]
    out, rem = RULES.apply("d", thread)
    # The signatures themselves go; the posts and what follows them stay.
    assert {r.paragraph_index for r in rem} == {1, 3, 5, 7}
    assert [p for p in out if p is not None] == [thread[0]] + COMMENTS[1::2] + ARTICLE[1:3]


def test_a_comment_list_title_needs_less_article_before_it_than_a_bare_counter():
    short_article = ARTICLE[:2]
    comments = [COMMENTS[3], "I have fished out of that harbour for years and the silt has never been this bad, "
                "the council should have acted long before the boats started running aground in June."]
    out, rem = RULES.apply("d", short_article + ["Top Rated Comments"] + comments)
    assert out[: len(short_article)] == short_article and all(p is None for p in out[len(short_article):])
    assert rem[-1].detail == "in the section under 'Top Rated Comments'"
    # A bare counter could sit in a share bar: it needs a third of the body text before it.
    out, rem = RULES.apply("d", short_article + ["3 Comments"] + comments * 2)
    assert [r.paragraph_index for r in rem] == [len(short_article)]
    assert out[len(short_article) + 1:] == comments * 2


def test_block_min_share_and_min_count_are_validated(tmp_path):
    bad = tmp_path / "x.toml"
    for field, value in (("block_min_share", "1.5"), ("min_count", "0"), ("min_count", '"three"'),
                         ("max_words", "2.5"), ("section_replies", "-1"),
                         ("section_replies", "3")):  # a rule without block = "to_end" opens no section
        bad.write_text(f'[pack]\nid = "x"\nversion = 1\n[[rule]]\nid = "x/a"\npattern = "a"\n{field} = {value}\n')
        with pytest.raises(RuleError, match=field):
            load_pack(bad)


def test_related_links_listed_under_a_header_go_with_it():
    related = ["Related Articles", "Council weighs new parking charges", "Storm damage closes coastal path",
               "Ferry timetable changes for summer"]
    tail = ["The authority will publish the full schedule of works on its website next week."]
    out, rem = RULES.apply("d", ARTICLE + related + tail)
    assert [p for p in out if p is not None] == ARTICLE + tail
    assert {r.rule for r in rem} == {"navigation/related-headers"}
    assert [r.detail for r in rem][1:] == ["listed under 'Related Articles'"] * 3
