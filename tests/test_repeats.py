"""Repeated paragraphs inside a document: exact and near-exact, first copy kept."""

from __future__ import annotations

from scrapewash.tasks.repeats import paragraph_key, remove_repeats

LONG = ("The regional water board said on Tuesday that reservoir levels had fallen to their lowest "
        "point in a decade and that hosepipe restrictions would remain in force until autumn.")


def test_exact_repeats_keep_first():
    paras = ["Headline", "Body one is here.", "HEADLINE", "Body one is here!", None, "Other"]
    out, rem = remove_repeats("d", paras)
    assert out == ["Headline", "Body one is here.", None, None, None, "Other"]
    assert [(r.paragraph_index, r.duplicate_of_paragraph, r.reason) for r in rem] == [
        (2, 0, "repeated_paragraph"), (3, 1, "repeated_paragraph")]
    assert paragraph_key("Read more:") == paragraph_key("READ  MORE")


def test_near_repeat_removed_with_similarity():
    near = LONG.replace("Tuesday", "Wednesday")
    out, rem = remove_repeats("d", [LONG, "Something else entirely, a short line.", near])
    assert out[2] is None
    assert rem[0].duplicate_of_paragraph == 0 and 0.8 <= rem[0].similarity < 1.0


def test_different_paragraphs_and_short_lines_kept():
    other = ("The board also announced a consultation on new charges for commercial users, "
             "which will open next month and run for twelve weeks.")
    out, rem = remove_repeats("d", [LONG, other, "Yes.", "No."])
    assert rem == [] and out == [LONG, other, "Yes.", "No."]
    out, rem = remove_repeats("d", [LONG, LONG.replace("Tuesday", "Monday")], near=False)
    assert rem == []


def test_copies_scope_keeps_a_question_asked_of_everyone():
    q = "What is the one dish you would cook for friends on a cold winter evening at home?"
    a1 = "A slow-cooked bean stew with smoked paprika, because it feeds everyone and waits for late guests."
    a2 = "Fish soup from my grandmother's recipe, with saffron, fennel and plenty of crusty bread."
    block = [LONG, "A second paragraph of the story, long enough to count as a real paragraph here."]
    intro = [f"Introduction paragraph {w} of the feature, which presents the cooks one by one." for w in "abc"]
    paras = ["Headline", "Headline"] + intro + [q, a1, q, a2] + block + block
    out, rem = remove_repeats("d", list(paras), scope="copies")
    assert [(r.paragraph_index, r.duplicate_of_paragraph) for r in rem] == [(1, 0), (11, 9), (12, 10)]
    assert out[7] == q
    out, rem = remove_repeats("d", list(paras), scope="any")
    assert [r.paragraph_index for r in rem] == [1, 7, 11, 12]


def test_copies_scope_keeps_labels_that_return_in_every_section():
    """A meal plan prints the same run of labels for every day: structure, not a scraper's copy."""
    intro = [f"Introduction paragraph {w} of the plan, which explains how the days are built." for w in "abcdef"]
    days = []
    for d in range(4):
        days += [f"Day {d + 1}", "Pre-Workout Meal", "Eat 60-90 minutes before your workout",
                 f"Dish number {d} with eggs, asparagus and sweet potato", "Portion Fix Containers: 1 Green, 1 Red",
                 "Post-Workout Meal", "Eat 1-2 hours after your workout"]
    out, rem = remove_repeats("d", intro + days, scope="copies")
    assert rem == [] and out == intro + days
    # the same block printed twice is still a copy
    block = days[:7]
    out, rem = remove_repeats("d", intro + block + block, scope="copies")
    assert [r.paragraph_index for r in rem] == list(range(13, 20))
