"""Rules that cannot hang: every regular expression of the per-document cleaning runs in linear time.

Python's ``re`` backtracks: a nested quantifier (``(a+)+``), branches that overlap under ``*``/``+``
or ``{m,n}`` (``(?: ?\\d+){0,3}``, the same word in two branches of a repeated group), two
neighbouring quantifiers that can share characters (``\\s*\\W\\s*``, ``\\S+@\\S+``) or a ``search``
for a pattern that starts with an unbounded run take quadratic, cubic or exponential time on a line
that *almost* matches. A paragraph can be long: a document of up to ``read.max_document_chars``
characters may be one line, and a line made of one long token is a single word for the rules'
``max_words``. So every pattern has to stay linear in the length of the text it is given, on any text.

The targets are every rule applied as RuleSet applies its mode (paragraph rules ``fullmatch``,
prefix rules ``match``, suffix rules ``search``), the combined paragraph pattern, every regular
expression of the cleaning modules (``search``, ``fullmatch``, ``findall``) and the whole
per-document cleaning (:meth:`Cleaner.clean`: repair, rules, repeats, line model).

* ``test_pumped_lines_stay_linear``: for every pattern, every repeated part (``*``, ``+``,
  ``{m,n}``) is pumped: a string matching what comes before it, then a string matching its body
  (once per alternative of every branch and per item of every character set in it) repeated, then
  a tail that fails the match. At paragraph size such a line must stay cheap (a bounded repeat of
  overlapping branches is exponential within its bound); at 4,000 characters a slow one must grow
  about linearly up to 40,000.
* ``test_fuzzed_lines_keep_a_throughput_floor`` (Hypothesis, derandomized): such pumps mixed with
  the patterns' alphabet (every character that appears in a pattern, whitespace including no-break
  spaces, digits, currency signs, punctuation), their words and the rules' examples, after a cut of
  some example, go through every target; each must sustain a throughput floor.
* ``test_worst_cases_grow_linearly`` and ``test_rule_examples_repeated_grow_linearly``: the worst
  inputs found while auditing the patterns, and every rule's own examples repeated, at two sizes
  (n and 4n): the time may grow about linearly (a ratio with slack) and stays under an absolute cap.
* ``test_every_rule_and_cleaning_regex_is_fuzzed``: every rule of every pack file and every regular
  expression in the cleaning modules is a target, so one added later is fuzzed without touching
  this file.

Timing is wall-clock on a shared machine, so a check that misses its bound is repeated (best of
three: load only ever slows a run down) and the bounds leave a wide margin: a linear pattern on a
loaded two-core machine stays well inside them, a quadratic one misses them several times over at
these sizes. A run is interrupted (SIGALRM; ``re`` checks for signals while it backtracks) once it
has clearly failed, so an exponential pattern fails the test in seconds instead of hanging it.
"""

from __future__ import annotations

import ast
import inspect
import math
import random
import re
import signal
import time
import tomllib
from collections.abc import Callable
from contextlib import contextmanager
from re import _parser as sre  # the parser behind re.compile (Python 3.11+: possessive and atomic nodes)

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapewash.config import Config
from scrapewash.records import RawDocument
from scrapewash.tasks import boilerplate, clean, content, encoding, minhash, repeats, templates
from scrapewash.tasks.boilerplate import load_rules, match_form, pack_files
from scrapewash.tasks.clean import Cleaner

RULES = load_rules()  # every bundled pack, nothing disabled
METHOD = {"paragraph": "fullmatch", "prefix": "match", "suffix": "search"}  # how RuleSet applies each mode
# The modules whose regular expressions the per-document cleaning applies (clean.Cleaner, and
# templates.template_keys, which the prepare stage runs on every cleaned document).
CLEANING_MODULES = (boilerplate, clean, content, encoding, minhash, repeats, templates)

# Bounds: a single regular expression must scan at least REGEX_FLOOR characters a second, the whole
# cleaning of a page at least CLEAN_FLOOR, plus a fixed allowance per call (timer, GC, scheduling).
# Measured on a loaded two-core machine: every pattern >= 5M chars/s on its worst pumped line (the
# slowest fuzzed 20,000-character line: 1.5 ms), the cleaning of a page with one such line <= 20 ms;
# a quadratic pattern takes 0.2-3 s on a 20,000-character line, an exponential one never finishes.
REGEX_FLOOR = 500_000
CLEAN_FLOOR = 100_000
REGEX_SLACK_S = 0.02
CLEAN_SLACK_S = 0.1
LINE_CHARS = 20_000  # fuzzed line length
PARAGRAPH_CHARS, PARAGRAPH_S = 600, 0.015  # a paragraph-sized pumped line: at most this (worst now ~1 ms)
SCREEN_CHARS, SCREEN_S = 4_000, 0.004  # pumped lines: slower than this at this size -> measure growth
SMALL, LARGE = 10_000, 40_000  # the two sizes of the growth checks
GROWTH = 10.0  # t(4n) may be at most this many times t(n) (linear: 4; quadratic: 16; cubic: 64)
TAILS = ("\x00", "!")  # fail the match: "\x00" for most patterns, "!" for the [^!?]{0,n} tails


# --- what is fuzzed ------------------------------------------------------------------------------


def rule_targets() -> dict[str, Callable[[str], object]]:
    """Every rule, applied the way RuleSet applies its mode, and the combined paragraph pattern."""
    out: dict[str, Callable[[str], object]] = {
        f"rule {r.id}": getattr(r.regex, METHOD[r.mode]) for r in RULES.rules
    }
    out["combined paragraph rules"] = RULES._combined.fullmatch  # all paragraph rules in one C call
    return out


_RE_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split"}


def _inline_patterns(module) -> tuple[list[str], list[str]]:
    """Literal patterns passed to re.* calls in ``module``'s source (other than the module-level
    ``NAME = re.compile(...)``, found compiled in the module), and the calls whose pattern is not a
    literal (allowed only where the rules are compiled)."""
    tree = ast.parse(inspect.getsource(module))
    module_level = {id(node.value) for node in tree.body if isinstance(node, ast.Assign)}
    literal, dynamic = [], []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.func.attr in _RE_CALLS and node.args and id(node) not in module_level):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                literal.append(arg.value)
            else:
                dynamic.append(f"{module.__name__}:{node.lineno}")
    return literal, dynamic


def cleaning_patterns() -> dict[str, re.Pattern[str]]:
    """The cleaning modules' compiled module-level patterns and the literal patterns used inline."""
    out: dict[str, re.Pattern[str]] = {}
    for m in CLEANING_MODULES:
        short = m.__name__.rsplit(".", 1)[-1]
        for name, value in vars(m).items():
            if isinstance(value, re.Pattern):
                out[f"{short}.{name}"] = value
        for p in _inline_patterns(m)[0]:
            out[f"{short} inline {p!r}"] = re.compile(p)
    return out


def pattern_targets() -> dict[str, Callable[[str], object]]:
    out: dict[str, Callable[[str], object]] = {}
    for name, p in cleaning_patterns().items():
        out[f"{name}.search"] = p.search
        out[f"{name}.fullmatch"] = p.fullmatch
        out[f"{name}.findall"] = p.findall  # the scan of sub and split too
    return out


RULE_TARGETS = rule_targets()
PATTERN_TARGETS = pattern_targets()
CONFIG = Config()
Cleaner(CONFIG)  # load the content model once, outside any timing


def clean_page(line: str) -> None:
    """The per-document cleaning of a page carrying ``line`` (a fresh Cleaner: no cached verdicts)."""
    text = f"Fuzzed page\n\n{line}\n\nShare this article"
    Cleaner(CONFIG).clean(RawDocument("fuzz", text, "fuzz.txt", "fuzz.txt", 0))


@pytest.fixture(scope="module", autouse=True)
def _cleaning_compiled():
    """The cleaning's compiled passes are compiled (or loaded from numba's cache) on their first
    call, which takes seconds in a fresh checkout: make that call before any timing, on lines that
    take every path (ASCII, accents, a character beyond the first plane, capital sigma and dotted I,
    tabs)."""
    for line in ("The council met on Tuesday to discuss the new bridge over the river, and voted 7-2.",
                 "Café Ünïcödé 😀 ΣΟΦΙΑ İstanbul 東京 — “quoted” text…", "\t" * 40 + "x\u00a0y"):
        clean_page(line)


def sources() -> list[tuple[str, re.Pattern[str], list[str]]]:
    """Each pattern with the targets that apply it: a rule's own target and the combined pattern;
    a cleaning pattern's search, fullmatch and findall."""
    out = [(f"rule {r.id}", r.regex,
            [f"rule {r.id}"] + (["combined paragraph rules"] if r.mode == "paragraph" else []))
           for r in RULES.rules]
    out += [(name, p, [f"{name}.search", f"{name}.fullmatch", f"{name}.findall"])
            for name, p in cleaning_patterns().items()]
    return out


SOURCES = sources()


def target(name: str) -> Callable[[str], object]:
    if name == "Cleaner.clean":
        return clean_page
    return RULE_TARGETS.get(name) or PATTERN_TARGETS[name]


# --- strings built from a pattern's structure ------------------------------------------------------

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_CATEGORY_CHAR = {sre.CATEGORY_DIGIT: "7", sre.CATEGORY_NOT_DIGIT: "a", sre.CATEGORY_SPACE: " ",
                  sre.CATEGORY_NOT_SPACE: "a", sre.CATEGORY_WORD: "a", sre.CATEGORY_NOT_WORD: "."}
_CANDIDATES = "a7 .,-:/'\"()!?$@#x_é\u00a0\u2603"
_CATEGORY_RE = {sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
                sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W"}


def _in_set(items, c: str, flags: int) -> bool:
    for op, av in items:
        if op is sre.LITERAL and (chr(av) == c or (flags & re.IGNORECASE and chr(av).lower() == c.lower())):
            return True
        if op is sre.RANGE and av[0] <= ord(c) <= av[1]:
            return True
        if op is sre.CATEGORY and re.fullmatch(_CATEGORY_RE.get(av, "(?!)"), c):
            return True
    return False


def _outside(items, flags: int) -> str:
    """A character that the negated set ``[^items]`` matches."""
    return next((c for c in _CANDIDATES if not _in_set(items, c, flags)), "\u2603")


class _Chooser:
    """Choices for :func:`sample`: a random source, optionally forcing the k-th alternative of one
    branch or the k-th item of one character set."""

    def __init__(self, rnd: random.Random, point=None, k: int = 0):
        self.rnd, self.point, self.k = rnd, point, k

    def alternative(self, alternatives):
        return alternatives[self.k] if alternatives is self.point else self.rnd.choice(alternatives)


def sample(seq, choose: _Chooser, flags: int, out: list[str]) -> list[str]:
    """Append a string matching the parsed ``seq`` (lookarounds and anchors ignored; a repeat taken
    between its minimum and two more)."""
    rnd = choose.rnd
    for op, av in seq:
        if op is sre.LITERAL:
            out.append(chr(av))
        elif op is sre.NOT_LITERAL:
            out.append("a" if av != ord("a") else "b")
        elif op is sre.ANY:
            out.append("a")
        elif op is sre.IN:
            if av and av[0][0] is sre.NEGATE:
                out.append(_outside(av[1:], flags))
            else:
                kind, a = choose.alternative(av)
                out.append(chr(a) if kind is sre.LITERAL else chr(rnd.randint(*a)) if kind is sre.RANGE
                           else _CATEGORY_CHAR.get(a, "a"))
        elif op in _REPEATS:
            lo, hi, body = av
            for _ in range(rnd.randint(lo, lo + 2 if hi == sre.MAXREPEAT else min(hi, lo + 2))):
                sample(body, choose, flags, out)
        elif op is sre.SUBPATTERN:
            sample(av[3], choose, flags, out)
        elif op is sre.ATOMIC_GROUP:
            sample(av, choose, flags, out)
        elif op is sre.BRANCH:
            sample(choose.alternative(av[1]), choose, flags, out)
    return out


def pumps(pattern: re.Pattern[str]) -> list[tuple[list, list]]:
    """(what comes before, body) for every part of ``pattern`` that can repeat."""
    found: list[tuple[list, list]] = []

    def walk(seq, before):
        seq = list(seq)
        for i, (op, av) in enumerate(seq):
            here = before + seq[:i]
            if op in _REPEATS:
                if av[1] == sre.MAXREPEAT or av[1] >= 2:
                    found.append((here, list(av[2])))
                walk(av[2], here)
            elif op is sre.SUBPATTERN:
                walk(av[3], here)
            elif op is sre.ATOMIC_GROUP:
                walk(av, here)
            elif op is sre.BRANCH:
                for alternative in av[1]:
                    walk(alternative, here)

    walk(sre.parse(pattern.pattern, pattern.flags), [])
    return found


def _choice_points(seq, out: list) -> list:
    """The branches (their alternatives) and character sets (their items) in ``seq``."""
    for op, av in seq:
        if op is sre.BRANCH:
            out.append(av[1])
            for alternative in av[1]:
                _choice_points(alternative, out)
        elif op is sre.IN and len(av) > 1 and av[0][0] is not sre.NEGATE:
            out.append(av)
        elif op in _REPEATS:
            _choice_points(av[2], out)
        elif op is sre.SUBPATTERN:
            _choice_points(av[3], out)
        elif op is sre.ATOMIC_GROUP:
            _choice_points(av, out)
    return out


def pump_units(body, rnd: random.Random, flags: int) -> list[str]:
    """Strings matching ``body``: one as it comes, and one for each alternative of each branch and
    each item of each character set in it (two alternatives that match the same text make a
    repeated group exponential; a set that also matches a neighbour's text makes runs quadratic)."""
    units = {"".join(sample(body, _Chooser(rnd), flags, []))}
    for point in _choice_points(body, []):
        for k in range(len(point)):
            units.add("".join(sample(body, _Chooser(rnd, point, k), flags, [])))
    units.discard("")
    return sorted(units)


def pumped_lines(pattern: re.Pattern[str], seed: str) -> list[tuple[str, str, str]]:
    """(head, unit, tail) for every repeated part of ``pattern`` and every unit of it."""
    rnd = random.Random(seed)
    lines = []
    for before, body in pumps(pattern):
        head = "".join(sample(before, _Chooser(rnd), pattern.flags, []))
        lines += [(head, unit, tail) for unit in pump_units(body, rnd, pattern.flags) for tail in TAILS]
    return lines


def pumped(head: str, unit: str, tail: str, size: int) -> str:
    return head + unit * max(1, (size - len(head)) // len(unit)) + tail


# --- timing --------------------------------------------------------------------------------------


class _Interrupted(Exception):
    pass


@contextmanager
def _interrupt_after(seconds: float):
    """Raise _Interrupted in the main thread after ``seconds`` (re checks signals while it backtracks)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum, frame):
        raise _Interrupted

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def best_time(fn: Callable[[str], object], text: str, budget: float, what: str) -> float:
    """Best of up to three timings of ``fn(text)``, stopping once one is within ``budget``; fails
    at once if a run takes more than 10x the budget (and at least 2 s): that is not noise."""
    cap = max(10 * budget, 2.0)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        try:
            with _interrupt_after(cap):
                fn(text)
        except _Interrupted:
            pytest.fail(f"{what}: interrupted after {cap:.1f} s on a {len(text):,}-character line "
                        f"(bound {budget:.3f} s): super-linear. The line starts {text[:80]!r}")
        best = min(best, time.perf_counter() - t0)
        if best <= budget:
            break
    return best


def regex_budget(n: int) -> float:
    return REGEX_SLACK_S + n / REGEX_FLOOR


def clean_budget(n: int) -> float:
    return CLEAN_SLACK_S + n / CLEAN_FLOOR


def assert_linear(fn: Callable[[str], object], make: Callable[[int], str], what: str, floor: int,
                  slack: float) -> None:
    """``fn`` on ``make(SMALL)`` and ``make(LARGE)``: about linear growth, and within the floor."""
    small, large = make(SMALL), make(LARGE)
    budget = slack + len(large) / floor
    t_small = best_time(fn, small, slack + len(small) / floor, what)
    t_large = best_time(fn, large, budget, what)
    if t_large > GROWTH * t_small + slack:  # a ratio well above 4: time both again before failing
        t_small = min(t_small, best_time(fn, small, 0, what))
        t_large = min(t_large, best_time(fn, large, 0, what))
    assert t_large <= GROWTH * t_small + slack, (
        f"{what}: {len(small):,} chars {t_small * 1e3:.1f} ms, {len(large):,} chars {t_large * 1e3:.1f} ms "
        f"(x{t_large / max(t_small, 1e-9):.1f}): super-linear. The line starts {large[:80]!r}")
    assert t_large <= budget, f"{what}: {t_large:.3f} s on {len(large):,} chars > {budget:.3f} s"


# --- the alphabet of the fuzzer --------------------------------------------------------------------

ALL_PATTERNS = [p.pattern for _, p, _ in SOURCES]
EXTRA_CHARS = (" \u00a0\u2009\u202f\u3000\t\x0b\x0c"  # spaces, incl. the no-break ones repair folds
               "0123456789$€£¥₹"  # digits, currency
               ".,;:!?'\"()[]{}<>/|\\-_@#%&*+=~`^…–—«»‹›•·©®™"  # punctuation
               "aAzZéß")
CHARS = sorted((set().union(*map(set, ALL_PATTERNS)) | set(EXTRA_CHARS)) - {"\n", "\r"})
WORDS = sorted({w.lower() for p in ALL_PATTERNS for w in re.findall(r"[^\W\d_]{2,}", p)})
EXAMPLES = sorted({match_form(e) for r in RULES.rules for e in (*r.examples, *r.counter_examples)})
ATOMS = CHARS + WORDS + [w + " " for w in WORDS] + EXAMPLES + [e + " " for e in EXAMPLES] + [
    "  ", " - ", " | ", "$1", "1,000", "12:34", "a@b", "a.b", "@a.", "\u00a0$ ", "a a "]
PUMPS = [(p, before, body) for _, p, _ in SOURCES for before, body in pumps(p)]


@st.composite
def adversarial_lines(draw, size: int = LINE_CHARS) -> str:
    """A head (what leads into a repeated part of some pattern, or a cut of some rule's example), a
    unit (a string matching that part, and/or atoms of the patterns' alphabet, words and examples)
    repeated to ``size`` characters, and a tail character (so that a pattern almost matches)."""
    pattern, before, body = draw(st.sampled_from(PUMPS))
    rnd = draw(st.randoms(use_true_random=False))
    if draw(st.booleans()):
        head = "".join(sample(before, _Chooser(rnd), pattern.flags, []))
    else:
        head = draw(st.sampled_from([""] + EXAMPLES))
        head = head[: draw(st.integers(0, len(head)))]
    unit = ""
    if draw(st.booleans()):
        unit = "".join(sample(body, _Chooser(rnd), pattern.flags, []))
    unit += "".join(draw(st.lists(st.sampled_from(ATOMS), min_size=0 if unit else 1, max_size=3)))
    tail = draw(st.sampled_from(["", "\x00", "!", "?", "x", "1", " ", ".", ")", "\u00a0"]))
    return head + unit * max(1, (size - len(head)) // len(unit)) + tail


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,pattern,targets", SOURCES, ids=[s[0] for s in SOURCES])
def test_pumped_lines_stay_linear(name, pattern, targets):
    """Every repeated part of the pattern pumped (each alternative inside it too). At paragraph size
    the line must take at most PARAGRAPH_S (a group repeated up to 15 times whose branches overlap
    costs 2**15 steps whatever the length); a line slower than SCREEN_S at SCREEN_CHARS characters
    must grow about linearly from SMALL to LARGE characters."""
    for head, unit, tail in pumped_lines(pattern, name):
        for t in targets:
            fn = target(t)
            line = pumped(head, unit, tail, PARAGRAPH_CHARS)
            took = best_time(fn, line, PARAGRAPH_S, t)
            assert took <= PARAGRAPH_S, f"{t}: {took * 1e3:.1f} ms on the {len(line)}-character line {line!r}"
            if best_time(fn, pumped(head, unit, tail, SCREEN_CHARS), SCREEN_S, t) > SCREEN_S:
                assert_linear(fn, lambda n, h=head, u=unit, e=tail: pumped(h, u, e, n),
                              f"{t} on a pumped line", REGEX_FLOOR, REGEX_SLACK_S)


# The strategy draws from st.randoms() only; Hypothesis also reports a change of the global random
# state by another thread while it draws (Prefect's and Dask's threads left running by other tests).
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning")
@settings(derandomize=True, database=None, deadline=None, max_examples=80,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(adversarial_lines())
def test_fuzzed_lines_keep_a_throughput_floor(line):
    failures = []
    for what, fn in (*RULE_TARGETS.items(), *PATTERN_TARGETS.items(), ("Cleaner.clean", clean_page)):
        budget = clean_budget(len(line)) if fn is clean_page else regex_budget(len(line))
        t = best_time(fn, line, budget, what)
        if t > budget:
            failures.append(f"{what}: {t:.3f} s > {budget:.3f} s ({len(line) / t / 1e6:.2f}M chars/s)")
    assert not failures, (f"too slow on a {len(line):,}-character line starting {line[:80]!r}:\n"
                          + "\n".join(failures))


# The worst inputs found while auditing (before the fixes: cubic or quadratic, or linear with a
# constant of 30-60 steps a character), each with the target it was worst for.
WORST_CASES: list[tuple[str, str, Callable[[int], str]]] = [
    # (?: ?(?:yes|no|\d+)){0,3}: a run of digits split three ways (cubic)
    ("widgets/feedback digits", "rule widgets/feedback", lambda n: "was this helpful?" + "1" * n + "!"),
    ("widgets/feedback digits+spaces", "rule widgets/feedback",
     lambda n: "was this helpful?" + "1 " * (n // 2) + "!"),
    # [$€£]\d[\d.,]* before [^!?]{0,30}: each digit given back retried 30 ways
    ("subscribe-cta amount", "rule subscription/subscribe-cta", lambda n: "subscribe for $" + "1" * n + "?"),
    ("pricing-offer amount", "rule subscription/pricing-offer",
     lambda n: "full access for $" + "1," * (n // 2) + "?"),
    # \S+@\S+\.\w searched: cubic on a long token full of "@", quadratic on any long token
    ("linkish at-signs", "content._LINKISH.search", lambda n: "a@" * (n // 2)),
    ("linkish token", "content._LINKISH.search", lambda n: "a" * n),
    ("linkish at-dots", "content._LINKISH.search", lambda n: "a@" + "@." * (n // 2)),
    # \s*\W\s* between reply links, \s*(...)?\s* after a clock time: a whitespace run split n² ways
    ("comment-mark reply spaces", "content._COMMENT_MARK.fullmatch", lambda n: "reply" + " " * n + "x"),
    ("comment-mark reply form feeds", "content._COMMENT_MARK.search", lambda n: "reply" + "\x0c" * n + "x"),
    ("comment-mark reply links", "content._COMMENT_MARK.search",
     lambda n: "reply" + " | reply" * (n // 8) + " x"),
    ("comment-mark clock spaces", "content._COMMENT_MARK.search", lambda n: "posted 12:34" + " " * n + "x"),
    # suffix rules are searched from every position of the paragraph
    ("suffix photo credit", "rule credits/suffix-photo-credit", lambda n: "a. (photo: " * (n // 11) + "x"),
    ("suffix photo courtesy", "rule credits/suffix-photo-credit",
     lambda n: ". Image courtesy of The" * (n // 23)),
    ("suffix click to tweet", "rule social/suffix-click-to-tweet", lambda n: "a click to twee" * (n // 15)),
    ("prefix image by", "rule credits/prefix-image-by", lambda n: "Image by " + "Ab " * (n // 3)),
    # "copy link" in two branches of a group repeated up to 15 times: 2**15 ways to fail (~60-175 ms a line)
    ("network-list copy link", "rule social/network-list",
     lambda n: "more" + " | copy link" * (n // 12) + " x"),
    ("share-header copy link", "rule social/share-header",
     lambda n: "share: copy link" + " | copy link" * (n // 12) + " x"),
    # the combined paragraph pattern (every paragraph rule) on long runs of each kind
    ("combined spaces", "combined paragraph rules", lambda n: "a" + " " * n + "!"),
    ("combined digits", "combined paragraph rules", lambda n: "1" * n + "!"),
    ("combined amounts", "combined paragraph rules", lambda n: "$1,000 " * (n // 7) + "!"),
    ("combined dollar signs", "combined paragraph rules", lambda n: "$ " * (n // 2) + "!"),
    ("combined words", "combined paragraph rules", lambda n: "a " * (n // 2) + "!"),
    ("combined letters", "combined paragraph rules", lambda n: "a" * n + "!"),
    ("combined punctuation", "combined paragraph rules", lambda n: ".,:;-|" * (n // 6) + "a"),
    ("combined symbols", "combined paragraph rules", lambda n: "• " * (n // 2) + "a"),
    ("combined quotes", "combined paragraph rules",
     lambda n: "12 thoughts on \"" + "a\"" * (n // 2) + "\x00"),
    ("combined breadcrumb", "combined paragraph rules", lambda n: "home" + " > a" * (n // 4) + "!"),
    ("combined names", "combined paragraph rules", lambda n: "By " + "Jane Doe, " * (n // 10) + "!"),
    ("combined dates", "combined paragraph rules", lambda n: "April 9, 2019 " * (n // 14) + "!"),
    # the whole cleaning of a page carrying such a line
    ("clean letters", "Cleaner.clean", lambda n: "a" * n),
    ("clean words", "Cleaner.clean", lambda n: "ab " * (n // 3)),
    ("clean no-break spaces", "Cleaner.clean", lambda n: "a\u00a0" * (n // 2)),
    ("clean spaces", "Cleaner.clean", lambda n: "a" + " " * n + "b"),
    ("clean at-signs", "Cleaner.clean", lambda n: "a@" * (n // 2)),
    ("clean digits", "Cleaner.clean", lambda n: "Was this helpful?" + "1" * n + "!"),
    ("clean amounts", "Cleaner.clean", lambda n: "$ " * (n // 2)),
    ("clean reply links", "Cleaner.clean", lambda n: "Reply" + " | Reply" * (n // 8) + " x"),
    ("clean prose", "Cleaner.clean", lambda n: "The council met on Tuesday, officials said. " * (n // 44)),
]


@pytest.mark.parametrize("name,target_name,make", WORST_CASES, ids=[c[0] for c in WORST_CASES])
def test_worst_cases_grow_linearly(name, target_name, make):
    if target_name == "Cleaner.clean":
        assert_linear(clean_page, make, name, CLEAN_FLOOR, CLEAN_SLACK_S)
        return
    fn = target(target_name)
    line = make(PARAGRAPH_CHARS)
    took = best_time(fn, line, PARAGRAPH_S, name)
    assert took <= PARAGRAPH_S, f"{name}: {took * 1e3:.1f} ms on the {len(line)}-character line {line!r}"
    assert_linear(fn, make, name, REGEX_FLOOR, REGEX_SLACK_S)


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda r: r.id)
def test_rule_examples_repeated_grow_linearly(rule):
    """Each rule on its own examples repeated (with and without a space), then a failing tail."""
    fn = getattr(rule.regex, METHOD[rule.mode])
    for ex in (*rule.examples, *rule.counter_examples):
        form = match_form(ex)
        for unit in (form, form + " "):
            assert_linear(fn, lambda n, u=unit: u * max(1, n // len(u)) + "\x00", f"{rule.id} on {unit!r}",
                          REGEX_FLOOR, REGEX_SLACK_S)


def test_every_rule_and_cleaning_regex_is_fuzzed():
    # every rule of every pack file, whatever the configuration disables
    in_files = set()
    for f in pack_files():
        in_files |= {r["id"] for r in tomllib.loads(f.read_text(encoding="utf-8")).get("rule", [])}
    assert in_files and in_files == {r.id for r in RULES.rules}
    assert {f"rule {i}" for i in in_files} <= set(RULE_TARGETS)
    combined = RULES._combined.pattern
    assert all(f"(?:{r.pattern})" in combined for r in RULES.rules if r.mode == "paragraph")
    # the fuzzer's alphabet holds every character of every pattern
    for p in ALL_PATTERNS:
        assert set(p) - {"\n", "\r"} <= set(CHARS), p
    # every regular expression of the cleaning modules is a target: compiled at module level or a
    # literal passed to re.*; any other re.* call compiles the rules (boilerplate) and nothing else
    # (encoding's ftfy fast path compiles single-character classes and ftfy's own mojibake pattern,
    # which it searches only within windows of the pattern's longest match)
    dynamic = [d for m in CLEANING_MODULES for d in _inline_patterns(m)[1]]
    assert all(d.startswith(("scrapewash.tasks.boilerplate:", "scrapewash.tasks.encoding:")) for d in dynamic), dynamic
    module_level = {f"{m.__name__.rsplit('.', 1)[-1]}.{k}" for m in CLEANING_MODULES
                    for k, v in vars(m).items() if isinstance(v, re.Pattern)}
    assert module_level <= set(cleaning_patterns())
    assert {"content._LINKISH", "content._COMMENT_MARK", "encoding._MULTISPACE_RE"} <= module_level
    assert any(" inline " in k for k in cleaning_patterns())  # content's r"[.!?:]$"
    for name in cleaning_patterns():
        assert {f"{name}.search", f"{name}.fullmatch", f"{name}.findall"} <= set(PATTERN_TARGETS)
