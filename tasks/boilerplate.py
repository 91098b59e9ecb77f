"""Boilerplate removal with versioned rule packs.

Rules are data: one TOML file per pack under ``tasks/rules/`` (plus any folder
named in the configuration), each rule with a stable id, a description, a
regular expression, examples it must match and counter-examples it must not.
A rule only ever removes a paragraph that consists *entirely* of boilerplate
(``re.fullmatch`` on the paragraph, up to ``max_words`` words), so a sentence
that merely mentions comments, cookies or donations inside an article is kept.
``prefix``/``suffix`` rules strip a credit glued to the start or end of a
content paragraph and keep the rest.

Matching sees a normalised paragraph: curly quotes folded to ASCII, dashes to
``-``, the ellipsis to ``...``, and case ignored.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numba
import numpy as np

from scrapewash.records import Removal

if TYPE_CHECKING:
    from scrapewash.config import BoilerplateConfig

RULES_DIR = Path(__file__).with_name("rules")
DEFAULT_MAX_WORDS = 30
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?$")
_MODES = ("paragraph", "prefix", "suffix")
_WHERE = ("any", "head", "tail", "edge")
_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-", "\u2026": "...",
    }
)


class RuleError(ValueError):
    """A rule pack is malformed."""


_FOLD_CHARS = re.compile("[" + "".join(chr(c) for c in _FOLD) + "]")


def match_form(paragraph: str) -> str:
    """The form of a paragraph that rules are matched against."""
    if paragraph.isascii():
        return paragraph
    found = set(_FOLD_CHARS.findall(paragraph))
    for ch in found:
        paragraph = paragraph.replace(ch, _FOLD[ord(ch)])
    return paragraph


def page_forms(paragraphs: list[str]) -> list[str]:
    """:func:`match_form` of each paragraph, folded in one pass over the page (tested equal)."""
    joined = "\n".join(paragraphs)
    if joined.isascii():
        return list(paragraphs)
    forms = match_form(joined).split("\n")
    # A paragraph holding "\n" itself (not one of split_blocks') splits in more parts.
    return forms if len(forms) == len(paragraphs) else [match_form(p) for p in paragraphs]


def word_count(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class Rule:
    id: str
    pack: str
    description: str
    pattern: str
    mode: str = "paragraph"
    max_words: int = DEFAULT_MAX_WORDS
    min_run: int = 1
    where: str = "any"
    block: str | None = None  # "to_end": a section header, the rest of the page goes too; "list": so do the short lines under it
    block_max_words: int = 16
    block_max_items: int = 12
    # "to_end": the share of the page's body text that must come before the header.
    block_min_share: float = 0.5
    # The rule applies only on pages where it matches at least this many paragraphs that no earlier
    # rule takes (a signal that means something only when it recurs, such as the 'Name says:' line
    # over every comment).
    min_count: int = 1
    # "to_end": a header followed, within a few paragraphs, by at least this many replies that open
    # by greeting a commenter by name ('Hi Milan,') heads a comment section whatever the share of
    # body text before it (0: never).
    section_replies: int = 0
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    example_results: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(repr=False, compare=False, default=None)  # type: ignore[assignment]


@dataclass(frozen=True)
class RulePack:
    id: str
    version: int
    description: str
    rules: tuple[Rule, ...]
    path: str


def _number(rule: dict, key: str, default: float, kind: type, where: str):  # type: ignore[no-untyped-def]
    """A numeric field of a rule, or a RuleError that names the pack, the rule and the field."""
    value = rule.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
        raise RuleError(f"{where}: {key} must be {'an integer' if kind is int else 'a number'}, not {value!r}")
    return kind(value)


def load_pack(path: Path) -> RulePack:
    """Load and validate one rule pack file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise RuleError(f"{path}: {e}") from e
    meta = data.get("pack") or {}
    pid = meta.get("id")
    if not isinstance(pid, str) or not pid:
        raise RuleError(f"{path}: [pack] needs an id")
    version = meta.get("version")
    if not isinstance(version, int):
        raise RuleError(f"{path}: [pack] needs an integer version")
    rules = []
    for i, r in enumerate(data.get("rule") or []):
        rid = r.get("id")
        if not isinstance(rid, str) or not rid.startswith(pid + "/"):
            raise RuleError(f"{path}: rule #{i} id {rid!r} must start with '{pid}/'")
        mode = r.get("mode", "paragraph")
        where = r.get("where", "any")
        if mode not in _MODES:
            raise RuleError(f"{path}: {rid}: mode must be one of {_MODES}")
        if where not in _WHERE:
            raise RuleError(f"{path}: {rid}: where must be one of {_WHERE}")
        block = r.get("block")
        if block not in (None, "to_end", "list"):
            raise RuleError(f"{path}: {rid}: block must be 'to_end' or 'list'")
        share = _number(r, "block_min_share", 0.5, float, f"{path}: {rid}")
        if not 0.0 <= share <= 1.0:
            raise RuleError(f"{path}: {rid}: block_min_share must be between 0 and 1")
        min_count = _number(r, "min_count", 1, int, f"{path}: {rid}")
        if min_count < 1:
            raise RuleError(f"{path}: {rid}: min_count must be at least 1")
        replies = _number(r, "section_replies", 0, int, f"{path}: {rid}")
        if replies < 0 or (replies and block != "to_end"):
            raise RuleError(f"{path}: {rid}: section_replies must be 0 or more, and only for block = 'to_end'")
        try:
            regex = re.compile(r["pattern"], re.IGNORECASE)
        except (KeyError, re.error) as e:
            raise RuleError(f"{path}: {rid}: bad pattern: {e}") from e
        if regex.groupindex:
            raise RuleError(f"{path}: {rid}: named groups are not allowed (rules are combined into one pattern)")
        rules.append(
            Rule(
                id=rid, pack=pid, description=str(r.get("description", "")), pattern=r["pattern"],
                mode=mode, max_words=_number(r, "max_words", DEFAULT_MAX_WORDS, int, f"{path}: {rid}"),
                min_run=_number(r, "min_run", 1, int, f"{path}: {rid}"), where=where, block=block,
                block_max_words=_number(r, "block_max_words", 16, int, f"{path}: {rid}"),
                block_max_items=_number(r, "block_max_items", 12, int, f"{path}: {rid}"),
                block_min_share=share, min_count=min_count, section_replies=replies,
                examples=tuple(r.get("examples", ())), counter_examples=tuple(r.get("counter_examples", ())),
                example_results=tuple(r.get("example_results", ())), regex=regex,
            )
        )
    return RulePack(pid, version, str(meta.get("description", "")), tuple(rules), str(path))


def pack_files(extra_dirs: Iterable[str] = ()) -> list[Path]:
    files = sorted(RULES_DIR.glob("*.toml"))
    for d in extra_dirs:
        p = Path(d)
        if not p.is_dir():
            raise RuleError(f"rule folder not found: {d}")
        files.extend(sorted(p.glob("*.toml")))
    return files


# --- Prefilter: which rules could match a paragraph at all? ------------------------------------
#
# Most rules need some literal text to match: "all rights reserved", "newsletter", "©". For every
# rule, :func:`required_literals` reads its pattern and finds a set of strings one of which any
# match must contain; one Aho-Corasick pass over the lower-cased paragraph then tells which rules
# are worth trying. A rule without such a set is always tried. Rules are still tried in pack order
# with the same patterns, so the first match is the one the plain alternation would give.
#
# Case: under IGNORECASE an ASCII letter of a pattern also matches four non-ASCII letters (İ ı ſ K);
# a paragraph holding one of them is matched against every rule. Non-ASCII literals are used only if
# they have no case (©, →), so they match nothing but themselves.
_ASCII_CASE_TWINS = re.compile("[\u0130\u0131\u017f\u212a]")
# A literal set is used whatever its score: even a weak one ("ap", "/", "by") keeps most paragraphs
# from the slowest patterns (a caption rule that scans the whole paragraph for an agency credit),
# and the set of a sequence is still the one whose weakest literal scores best.
_MIN_LITERAL_SCORE = 1
_VERDICTS = 65536  # recent paragraph verdicts a rule set remembers


def _literal_score(s: str) -> int:
    return sum(1 if c.isascii() else 4 for c in s)


def _usable_literal(s: str) -> bool:
    return all(c.isascii() or (c.lower() == c and c.upper() == c) for c in s)


def _required_in(items) -> frozenset[str] | None:  # type: ignore[no-untyped-def]
    """Strings one of which every match of the parsed sequence ``items`` contains (lower-cased)."""
    choices: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            choices.append(frozenset({"".join(run).lower()}))
            run.clear()

    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        flush()
        sub: frozenset[str] | None = None
        if name == "SUBPATTERN":
            sub = _required_in(av[3])
        elif name == "ATOMIC_GROUP":
            sub = _required_in(av)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            sub = _required_in(av[2])
        elif name == "BRANCH":
            parts = [_required_in(b) for b in av[1]]
            if all(x is not None for x in parts):
                sub = frozenset().union(*parts)  # type: ignore[arg-type]
        if sub is not None:
            choices.append(sub)
    flush()
    good = [c for c in choices if c and all(_usable_literal(s) for s in c)
            and min(_literal_score(s) for s in c) >= _MIN_LITERAL_SCORE]
    if not good:
        return None
    return max(good, key=lambda c: (min(_literal_score(s) for s in c), -len(c)))


def _parsed(pattern: str):  # type: ignore[no-untyped-def]
    """``pattern`` parsed by the standard library's own parser (ignoring case). The readings below
    only read it; :class:`_Prefilter` parses each rule once for both of its own (the trees are not
    kept: a rule set's take some megabytes)."""
    import re._parser as sre_parse

    return sre_parse.parse(pattern, re.IGNORECASE)


@lru_cache(maxsize=4096)
def required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-cased strings one of which every match of ``pattern`` contains, or None if none found."""

    return _required_in(_parsed(pattern))


# A paragraph rule must match the whole paragraph, so its match starts at the paragraph's first
# character. :func:`_starts_of` reads, from the parsed pattern, the lower-cased first two characters a
# match can have, each character decided by the regex engine itself (ignoring case; ``_NON_ASCII``
# stands for any non-ASCII character, which every set of characters is taken to allow). A form is
# tried against the rule only if its first character, and its first two when both are ASCII, are
# among them. Any non-ASCII start is let through, and so is every start for a rule that could match
# an empty paragraph or whose pattern holds something this reading does not know. On real page
# dumps this spares nearly two thirds of the candidates' tries.
_ASCII_CHARS = [chr(b) for b in range(128)]
_CLASS_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w",
                     "CATEGORY_NOT_WORD": r"\W", "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S"}
_NON_ASCII = "\x80"
_MAX_STARTS = 30000  # a pattern with more starts than this is let through on any start


class _TooMany(Exception):
    pass


def _class_pattern(items) -> str | None:  # type: ignore[no-untyped-def]
    """A parsed character set (``[...]``) written back as a pattern, or None if it holds an unknown part."""
    parts = []
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            parts.insert(0, "^")
        elif name == "LITERAL":
            parts.append(re.escape(chr(av)))
        elif name == "RANGE":
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif name == "CATEGORY" and str(av) in _CLASS_CATEGORIES:
            parts.append(_CLASS_CATEGORIES[str(av)])
        else:
            return None
    return "[" + "".join(parts) + "]"


@lru_cache(maxsize=4096)
def _chars(char_class: str) -> frozenset[str]:
    """The ASCII characters the one-character pattern ``char_class`` matches ignoring case, lower-cased,
    and ``_NON_ASCII``."""
    rx = re.compile(char_class, re.IGNORECASE)
    return frozenset({c.lower() for c in _ASCII_CHARS if rx.fullmatch(c) is not None} | {_NON_ASCII})


def _then(heads: set[str], tails, k: int) -> set[str]:  # type: ignore[no-untyped-def]
    """Each of ``heads`` (at most ``k`` characters; shorter: its part of the match is complete)
    followed by the starts ``tails(n)`` of what comes next, cut to ``k`` characters."""
    out: set[str] = set()
    for h in heads:
        if len(h) >= k:
            out.add(h[:k])
            continue
        out.update((h + t)[:k] for t in tails(k - len(h)))
        if len(out) > _MAX_STARTS:
            raise _TooMany
    return out


def _starts_of(items, k: int) -> set[str]:  # type: ignore[no-untyped-def]
    """The first ``k`` characters (fewer: the whole match) a match of the parsed sequence can have."""
    res = {""}
    for op, av in items:
        if all(len(x) >= k for x in res):
            break
        res = _then(res, lambda n, op=op, av=av: _starts_of_item(str(op), av, n), k)
    return res


def _starts_of_item(name: str, av, k: int) -> set[str]:  # type: ignore[no-untyped-def]
    if k == 0:
        return {""}
    if name == "LITERAL":
        return set(_chars(re.escape(chr(av))))
    if name == "IN":
        cls = _class_pattern(av)
        if cls is None:
            raise _TooMany
        return set(_chars(cls))
    if name in ("NOT_LITERAL", "ANY"):
        return set(_chars("[\\s\\S]"))
    if name == "BRANCH":
        return set().union(*(_starts_of(b, k) for b in av[1]))
    if name == "SUBPATTERN":
        return _starts_of(av[3], k)
    if name == "ATOMIC_GROUP":
        return _starts_of(av, k)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        lo, hi, sub = av
        one = _starts_of(sub, k)
        res: set[str] = set()
        cur = {""}
        j = 0
        # after j repetitions; past k + lo + 1 of them (each adds a character or is empty) no new start
        while True:
            if j >= lo:
                res |= cur
            if j >= hi or j >= lo and (all(len(x) >= k for x in cur) or j > k + lo):
                return res
            cur = _then(cur, lambda n: {x[:n] for x in one}, k)
            j += 1
    if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero-width: the next part starts the match
        return {""}
    raise _TooMany  # not read here (a back reference, a conditional group): any start


def _start_readings(tree) -> tuple[int | None, frozenset[str] | None]:  # type: ignore[no-untyped-def]
    """A parsed pattern's first characters (:func:`first_bytes`) and two-character starts
    (:func:`start_pairs`), from one walk."""
    try:
        starts = _starts_of(tree, 2)
        pairs: frozenset[str] | None = frozenset(x for x in starts if len(x) == 2)
    except _TooMany:  # the first characters alone may still be read (a back reference after them)
        pairs = None
        try:
            starts = _starts_of(tree, 1)
        except _TooMany:
            return None, None
    if "" in starts:  # a match may be empty: any first character
        return None, pairs
    first = 0
    for x in starts:
        if x[0] != _NON_ASCII:
            first |= 1 << ord(x[0]) | 1 << ord(x[0].upper())
    return first, pairs


@lru_cache(maxsize=4096)
def first_bytes(pattern: str) -> int | None:
    """Bit mask of the ASCII characters (either case) that a whole match of ``pattern`` (ignoring
    case) can start with; None if a match may be empty or the pattern is not read, so any start goes."""
    return _start_readings(_parsed(pattern))[0]


def start_pairs(pattern: str) -> frozenset[str] | None:
    """The lower-cased two-character starts of the whole matches of ``pattern`` (ignoring case) that
    are longer than one character (``_NON_ASCII``: any non-ASCII character); None if unknown (too
    many, or a part this reading does not handle)."""
    return _start_readings(_parsed(pattern))[1]


def _as_words(masks: Sequence[int], words: int) -> np.ndarray:
    """Rule masks (Python ints) as rows of ``words`` 64-bit words, for compiled code."""
    out = np.zeros((len(masks), words), dtype=np.uint64)
    for i, m in enumerate(masks):
        for w in range(words):
            out[i, w] = (m >> (64 * w)) & 0xFFFFFFFFFFFFFFFF
    return out


class _Prefilter:
    """One Aho-Corasick automaton over the required literals of a list of rules."""

    def __init__(self, rules: Sequence[Rule], anchored: bool = False):
        import ahocorasick

        self.n = len(rules)
        self.anchored = anchored  # whole-paragraph rules: a candidate's first characters must fit too
        if anchored:
            tables: list[int | None] = []
            # for each two ASCII characters a form starts with (lower-cased: ``a * 128 + b``)
            by_pair = [0] * (128 * 128)
            unknown = 0
            for i, r in enumerate(rules):
                first, pairs = _start_readings(_parsed(r.pattern))
                tables.append(first)
                if pairs is None:
                    unknown |= 1 << i
                    continue
                for x in pairs:
                    if x[0] != _NON_ASCII and x[1] != _NON_ASCII:
                        by_pair[ord(x[0]) * 128 + ord(x[1])] |= 1 << i
            # for each first byte of a lower-cased form, the rules whose match can start with it
            self.first = [sum(1 << i for i, t in enumerate(tables) if t is None or b >= 128 or t >> b & 1)
                          for b in range(256)]
            self.pairs = [m | unknown for m in by_pair]
        self.always = 0
        masks: dict[str, int] = {}
        for i, r in enumerate(rules):
            lits = required_literals(r.pattern)
            if lits is None:
                self.always |= 1 << i
                continue
            for s in lits:
                masks[s] = masks.get(s, 0) | (1 << i)
        self._masks = masks
        self.automaton = ahocorasick.Automaton()
        for s, m in masks.items():
            self.automaton.add_word(s, m)
        if masks:
            self.automaton.make_automaton()
        self.has_words = bool(masks)
        self.ascii_literals = all(s.isascii() for s in masks)  # lower-cased alike in any context
        self.all = (1 << self.n) - 1

    def candidates(self, form: str) -> int:
        """Bit mask of the rules that could match ``form``."""
        if _ASCII_CASE_TWINS.search(form):
            return self.all
        mask = self.always
        if self.has_words:
            for _, m in self.automaton.iter(form.lower()):
                mask |= m
        if self.anchored and form:
            mask &= self.first[min(ord(form[0].lower()[0]), 128)]
            head = form[:2].lower()
            if len(head) == 2 and head.isascii():
                mask &= self.pairs[ord(head[0]) * 128 + ord(head[1])]
        return mask

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The same automaton over UTF-8 bytes, for compiled code: each byte's class (the bytes no
        literal holds share class 0), the transition table ``[state, class]`` (a state with rules
        to report negated: ``-1 - state``), each state's rule mask (its literal's and those of the
        literals it ends with) as 64-bit words, the always-candidates' mask alike, and for each
        first byte of a line, and each two first ASCII bytes, the rules a match can start with (all
        rules unless ``anchored``)."""
        words = max(1, (self.n + 63) // 64)
        encoded = {s.encode("utf-8", "surrogatepass"): m for s, m in self._masks.items()}
        used = sorted({b for lit in encoded for b in lit})
        classes = np.zeros(256, dtype=np.int32)
        for k, b in enumerate(used):
            classes[b] = k + 1
        trie: list[dict[int, int]] = [{}]
        mask_of = [0]
        for lit, m in encoded.items():
            node = 0
            for byte in lit:
                c = int(classes[byte])
                nxt = trie[node].get(c)
                if nxt is None:
                    nxt = len(trie)
                    trie[node][c] = nxt
                    trie.append({})
                    mask_of.append(0)
                node = nxt
            mask_of[node] |= m
        n_states = len(trie)
        goto = np.zeros((n_states, len(used) + 1), dtype=np.int64)
        fail = [0] * n_states
        queue = []
        for c, child in trie[0].items():
            goto[0, c] = child
            queue.append(child)
        for state in queue:  # breadth first: a state's fail state is complete before it
            mask_of[state] |= mask_of[fail[state]]
            for c, child in trie[state].items():
                fail[child] = int(goto[fail[state], c])
                queue.append(child)
            row = goto[fail[state]].copy()
            for c, child in trie[state].items():
                row[c] = child
            goto[state] = row
        reports = np.array([m != 0 for m in mask_of], dtype=bool)
        delta = np.where(reports[goto], -1 - goto, goto).astype(np.int32)
        out = _as_words(mask_of, words)
        always = _as_words([self.always], words)[0]
        if self.anchored:
            first, pairs = _as_words(self.first, words), _as_words(self.pairs, words)
        else:  # every rule, whatever a line starts with
            first = np.full((256, words), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
            pairs = np.full((128 * 128, words), 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        return classes, delta, out, always, first, pairs

    def page_masks(self, forms: Sequence[str]) -> np.ndarray | None:
        """:meth:`candidates` of each form as
        64-bit words ``[len(forms), words]``, in one compiled pass over the page's lower-cased
        UTF-8 bytes; None where the page needs :meth:`candidates` one form at a time (a letter that
        matches ASCII only ignoring case, a capital sigma, whose lower case depends on what follows
        it, or a form holding a line break). A literal never holds a line break, so none spans two
        forms (tested equal)."""
        if not self._newline_free:
            return None
        joined = "\n".join(forms)
        if joined.count("\n") != len(forms) - 1 or not joined.isascii() and (
                _ASCII_CASE_TWINS.search(joined) or "\u03a3" in joined):
            return None
        classes, delta, out, always, first, pairs = self._tables
        data = np.frombuffer(joined.lower().encode("utf-8", "surrogatepass"), dtype=np.uint8)
        return _line_masks(data, len(forms), classes, delta, out, always, first, pairs)

    @cached_property
    def _newline_free(self) -> bool:
        return not any("\n" in s for s in self._masks)


@numba.njit(cache=True, nogil=True)
def _line_masks(data: np.ndarray, n_lines: int, classes: np.ndarray, delta: np.ndarray, out: np.ndarray,
                always: np.ndarray, first: np.ndarray, pairs: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Rule masks of the "\n"-separated lines of ``data`` (UTF-8): the always-candidates and those of
    every literal found in the line, of those the rules a match can start with the line's first
    byte (``first``) and, when both are ASCII, its first two bytes (``pairs``)."""
    words = out.shape[1]
    masks = np.empty((n_lines, words), dtype=np.uint64)
    start = 0
    for line in range(n_lines):
        end = start
        while end < data.shape[0] and data[end] != 10:
            end += 1
        for w in range(words):
            masks[line, w] = always[w]
        i = start
        state = 0
        while i < end:
            state = delta[state, classes[data[i]]]
            if state < 0:  # a state that reports rules
                state = -1 - state
                for w in range(words):
                    masks[line, w] |= out[state, w]
            i += 1
        if end > start:
            for w in range(words):
                masks[line, w] &= first[data[start], w]
            if end - start > 1 and data[start] < 128 and data[start + 1] < 128:
                pair = np.int64(data[start]) * 128 + np.int64(data[start + 1])
                for w in range(words):
                    masks[line, w] &= pairs[pair, w]
        start = end + 1
    return masks


@numba.njit(cache=True, nogil=True)
def _eligible(masks: np.ndarray, max_words: np.ndarray, words: np.ndarray) -> tuple:  # pragma: no cover
    """Per line, the rules of its mask that allow its number of words, in rule order: flat indexes
    and offsets."""
    n = masks.shape[0]
    n_rules = max_words.shape[0]
    flat = np.empty(n * n_rules, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    k = 0
    for line in range(n):
        for r in range(n_rules):
            if max_words[r] >= words[line] and (masks[line, r >> 6] >> np.uint64(r & 63)) & np.uint64(1):
                flat[k] = r
                k += 1
        offsets[line + 1] = k
    return flat[:k].copy(), offsets


def _max_width(rules: Sequence[Rule]) -> int | None:
    """The longest text any of ``rules`` can match, or None if one is unbounded."""
    import re._constants as sre_constants
    import re._parser as sre_parse

    widest = 0
    for r in rules:
        hi = sre_parse.parse(r.pattern, re.IGNORECASE).getwidth()[1]
        if hi >= sre_constants.MAXREPEAT:
            return None
        widest = max(widest, hi)
    return widest


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class RuleSet:
    """The active rules, compiled for fast matching."""

    def __init__(self, packs: Sequence[RulePack], disabled: Iterable[str] = (), edge: int = 5,
                 min_rest_words: int = 8):
        self.packs = tuple(packs)
        off = set(disabled)
        seen: set[str] = set()
        rules: list[Rule] = []
        for p in self.packs:
            for r in p.rules:
                if r.id in seen:
                    raise RuleError(f"duplicate rule id {r.id}")
                seen.add(r.id)
                if r.id not in off:
                    rules.append(r)
        unknown = off - seen
        if unknown:
            raise RuleError(f"unknown rule ids to disable: {', '.join(sorted(unknown))}")
        self.rules = tuple(rules)
        self.edge = edge
        self.min_rest_words = min_rest_words
        self._para = [r for r in rules if r.mode == "paragraph"]
        self._prefix = [r for r in rules if r.mode == "prefix"]
        self._suffix = [r for r in rules if r.mode == "suffix"]
        self.max_words = max((r.max_words for r in self._para), default=0)
        # Template lines recur across the pages of a site: remember recent verdicts (form, words).
        self._verdicts: dict[tuple[str, int], list[Rule]] = {}

    # The compiled parts are built on first use: a process that only validates the configuration or
    # reads the pack versions (the flow's own, when shards run on other workers) never pays for them.
    @cached_property
    def _prefix_re(self) -> re.Pattern[str] | None:
        """Prefix rules: one alternation with a named group per rule, tried at the start only."""
        return (re.compile("|".join(f"(?P<r{i}>(?:{r.pattern}))" for i, r in enumerate(self._prefix)),
                           re.IGNORECASE)
                if self._prefix else None)

    @cached_property
    def _para_filter(self) -> _Prefilter:
        return _Prefilter(self._para, anchored=True)

    @cached_property
    def _suffix_filter(self) -> _Prefilter:
        return _Prefilter(self._suffix)

    @cached_property
    def _suffix_width(self) -> int | None:
        return _max_width(self._suffix) if self._suffix_filter.ascii_literals else None

    @property
    def _combined(self) -> re.Pattern[str] | None:
        """All paragraph rules as one alternation (the reference the prefiltered matching equals;
        compiled on first use, it takes a second)."""
        if not hasattr(self, "_combined_re"):
            self._combined_re = (
                re.compile("|".join(f"(?P<r{i}>(?:{r.pattern}))" for i, r in enumerate(self._para)),
                           re.IGNORECASE)
                if self._para else None
            )
        return self._combined_re

    @property
    def versions(self) -> dict[str, int]:
        return {p.id: p.version for p in self.packs}

    def match_paragraph(self, form: str, words: int) -> list[Rule]:
        """Paragraph-mode rules that match the whole (normalised) paragraph, best first."""
        if not self._para or words > self.max_words:
            return []
        found = self._verdicts.get((form, words))
        if found is None:
            found = self._remember(form, words, self._match(form, words))
        return found

    def forget(self) -> None:
        """Forget the remembered paragraph verdicts (as a process that has not cleaned these texts)."""
        self._verdicts.clear()

    def _remember(self, form: str, words: int, found: list[Rule]) -> list[Rule]:
        if len(self._verdicts) >= _VERDICTS:  # recent template lines are what recurs; start over
            self._verdicts.clear()
        self._verdicts[(form, words)] = found
        return found

    def _match(self, form: str, words: int) -> list[Rule]:
        # The rules that could match, in pack order; the first that matches the whole paragraph is
        # the one the alternation of all rules (``_combined``) finds.
        return self._match_among(form, [k for k in _bits(self._para_filter.candidates(form))
                                        if self._para[k].max_words >= words])

    def _match_among(self, form: str, cands: list[int]) -> list[Rule]:
        for j, k in enumerate(cands):
            first = self._para[k]
            if not first.regex.fullmatch(form):
                continue
            if first.where == "any" and first.min_run == 1 and first.min_count == 1:
                return [first]
            # The first hit has constraints to check: collect every later matching rule too.
            return [first] + [self._para[i] for i in cands[j + 1:] if self._para[i].regex.fullmatch(form)]
        return []

    def _match_plain(self, form: str, words: int) -> list[Rule]:
        """:meth:`_match` without the prefilter: one alternation of all rules (the reference)."""
        m = self._combined.fullmatch(form)  # type: ignore[union-attr]
        if m is None:
            return []
        k = int(m.lastgroup[1:])  # type: ignore[index]
        first = self._para[k]
        if first.max_words >= words and first.where == "any" and first.min_run == 1 and first.min_count == 1:
            return [first]
        return [r for r in self._para[k:] if r.max_words >= words and r.regex.fullmatch(form)]

    @cached_property
    def _para_max_words(self) -> np.ndarray:
        return np.array([r.max_words for r in self._para], dtype=np.int64)

    def _page_hits(self, forms: list[str], words: list[int]) -> list[list[Rule]]:
        """:meth:`match_paragraph` of each form of a page: recent verdicts looked up, the prefilter
        run once over the rest."""
        hits: list[list[Rule]] = [[] for _ in forms]
        if not self._para:
            return hits
        cache = self._verdicts
        todo = []
        for i, (form, w) in enumerate(zip(forms, words, strict=True)):
            if w <= self.max_words:
                found = cache.get((form, w))
                if found is None:
                    todo.append(i)
                else:
                    hits[i] = found
        if not todo:
            return hits
        masks = self._para_filter.page_masks([forms[i] for i in todo]) if len(todo) > 1 else None
        if masks is None:
            for i in todo:
                hits[i] = self.match_paragraph(forms[i], words[i])
        else:
            flat, offsets = _eligible(masks, self._para_max_words, np.array([words[i] for i in todo], dtype=np.int64))
            flat, offsets = flat.tolist(), offsets.tolist()
            for k, i in enumerate(todo):
                hits[i] = self._remember(forms[i], words[i],
                                         self._match_among(forms[i], flat[offsets[k]:offsets[k + 1]]))
        return hits

    def _suffix_candidates(self, forms: list[str]) -> list[int] | None:
        """The suffix prefilter's candidates of each form (see :meth:`strip_fragment`), in one pass."""
        width = self._suffix_width
        if not self._suffix or len(forms) < 2:
            return None
        masks = self._suffix_filter.page_masks(forms if width is None else [f[-width:] for f in forms])
        return None if masks is None or masks.shape[1] != 1 else masks[:, 0].tolist()

    def strip_fragment(self, paragraph: str, form: str | None = None,
                       suffix_mask: int | None = None) -> tuple[str, str, Rule] | None:
        """Strip a credit glued to the start or end of ``paragraph`` (``form``: its :func:`match_form`;
        ``suffix_mask``: the suffix prefilter's candidates for it, if known).

        Returns (kept text, removed fragment, rule) or None.
        """
        if form is None:
            form = match_form(paragraph)
        if self._prefix_re is not None:
            m = self._prefix_re.match(form)
            if m and m.end() > 0:
                rule = self._prefix[int(m.lastgroup[1:])]  # type: ignore[index]
                rest = paragraph[m.end():].strip()
                if word_count(rest) >= self.min_rest_words:
                    return rest, paragraph[: m.end()].strip(), rule
        # A suffix rule applies only if its leftmost match ends where the paragraph ends; such a match
        # lies in the last ``_suffix_width`` characters, and so does a literal it needs.
        tail = form if self._suffix_width is None or len(form) <= self._suffix_width else form[-self._suffix_width:]
        if suffix_mask is not None:
            suffix = suffix_mask
        else:
            suffix = self._suffix_filter.candidates(tail) if self._suffix else 0
        for k in _bits(suffix):
            rule = self._suffix[k]
            m = rule.regex.search(form)
            if m and m.end() == len(form) and m.start() > 0:
                rest = paragraph[: m.start()].strip()
                if word_count(rest) >= self.min_rest_words:
                    return rest, paragraph[m.start():].strip(), rule
        return None

    def apply(self, doc_id: str, paragraphs: list[str]) -> tuple[list[str | None], list[Removal]]:
        """Remove boilerplate from one document's paragraphs.

        Returns the paragraphs with removed ones set to None (fragments
        stripped in place) and the removals, in paragraph order.
        """
        n = len(paragraphs)
        out: list[str | None] = list(paragraphs)
        removals: list[Removal] = []
        forms = page_forms(paragraphs)
        words = [len(f.split()) for f in forms]  # word_count(paragraph), inlined: folding adds no space
        hits = self._page_hits(forms, words)
        suffix_masks = self._suffix_candidates(forms)
        blocks: list[tuple[int, Rule]] = []
        runs: dict[tuple[str, int], int] = {}
        counts: Counter[str] | None = None
        for i in range(n):
            cands = hits[i]
            chosen = None
            for r in cands:
                if r.where != "any":
                    head, tail = i < self.edge, i >= n - self.edge
                    if (r.where == "head" and not head) or (r.where == "tail" and not tail) or (
                        r.where == "edge" and not (head or tail)
                    ):
                        continue
                if r.min_run > 1 and _run_length(forms, i, r, runs) < r.min_run:
                    continue
                if r.min_count > 1:
                    if counts is None:
                        counts = Counter(h.id for found in hits for h in found if h.min_count > 1)
                    if counts[r.id] < r.min_count:
                        continue
                chosen = r
                break
            if chosen is not None:
                out[i] = None
                removals.append(
                    Removal(doc_id, i, paragraphs[i], "boilerplate", "paragraph", 1, rule=chosen.id,
                            detail=chosen.description)
                )
                if chosen.block is not None:
                    blocks.append((i, chosen))
                continue
            if self._prefix or self._suffix:
                frag = self.strip_fragment(paragraphs[i], forms[i],
                                           None if suffix_masks is None else suffix_masks[i])
                if frag is not None:
                    rest, removed, rule = frag
                    out[i] = rest
                    removals.append(
                        Removal(doc_id, i, removed, "boilerplate", "fragment", 0, rule=rule.id,
                                detail=rule.description)
                    )
        if blocks:
            removals.extend(self._apply_blocks(doc_id, paragraphs, out, blocks, words))
            removals.sort(key=lambda r: (r.paragraph_index, r.part != "fragment"))
        return out, removals

    def _apply_blocks(self, doc_id: str, paragraphs: list[str], out: list[str | None],
                      blocks: list[tuple[int, Rule]], words: list[int]) -> list[Removal]:
        """Remove what a section header brings with it: a comment section to the end of the
        page, or the list of short headline-like lines under a related-links header. (``words``:
        the word count of each of ``paragraphs``.)"""
        removals: list[Removal] = []
        # Where the article's body text is: paragraphs of 25+ words still kept.
        body = [0 if p is None else len(p) if (w if p is q else word_count(p)) >= 25 else 0
                for p, q, w in zip(out, paragraphs, words, strict=True)]
        total = sum(body)
        before = 0
        starts = {}
        for i, n in enumerate(body):
            starts[i] = before
            before += n
        section_rules = Counter(rule.id for _, rule in blocks if rule.block == "to_end")
        tried: set[str] = set()
        for i, rule in blocks:
            if rule.block == "to_end":
                # Only a single section header that follows the article: most of the page's body
                # text before it (``block_min_share``), and no second header of its kind (a listing
                # page shows one per teaser; a share bar above the article may carry a comment
                # counter). A rule that must recur (``min_count``) marks its section where it
                # first occurs: a forum thread, whose first post is signed like the rest near the
                # top of the page, keeps its posts.
                if rule.min_count > 1:
                    if rule.id in tried:
                        continue
                    tried.add(rule.id)
                elif section_rules[rule.id] > 1:
                    continue
                if not total or starts[i] < total * rule.block_min_share:
                    if not (rule.section_replies and _replies_follow(out, i, rule.section_replies)):
                        continue
                for j in range(i + 1, len(paragraphs)):
                    if out[j] is not None:
                        removals.append(Removal(doc_id, j, paragraphs[j], "boilerplate", "paragraph", 1,
                                                rule=rule.id, detail=f"in the section under '{paragraphs[i][:60]}'"))
                        out[j] = None
                return removals  # everything after the first section header is gone
            items = 0
            for j in range(i + 1, len(paragraphs)):
                if items >= rule.block_max_items:
                    break
                p = out[j]
                if p is None:
                    continue
                if word_count(p) > rule.block_max_words or _SENTENCE_END.search(p):
                    break
                removals.append(Removal(doc_id, j, p, "boilerplate", "paragraph", 1, rule=rule.id,
                                        detail=f"listed under '{paragraphs[i][:60]}'"))
                out[j] = None
                items += 1
        return removals


# A reply that opens by greeting the commenter by name, on a line of its own: "Hi Milan,", "Hello
# Cindy,", "Dear Otis,", "Olá Karol,", "Hallo Jens,". The name is capitalised (case-sensitive), so
# "hello 1 started" is no reply.
_REPLY_GREETING = re.compile(r"(?i:hi|hello|hey|dear|hola|ol[áa]|oi|bonjour|salut|hallo|liebe|lieber|ciao)"
                             r"(?: there)?,? [A-Z][\w'.-]{1,20}(?: [A-Z][\w'.-]{1,20})?"
                             r" ?[,!:—-]?")
_REPLY_WITHIN = 6  # the first reply comes within this many paragraphs of the header


def _replies_follow(out: list[str | None], i: int, n: int) -> bool:
    """Whether at least ``n`` of the paragraphs still present after ``i`` greet a commenter by name,
    the first within ``_REPLY_WITHIN`` paragraphs of ``i``."""
    seen = found = 0
    for p in out[i + 1:]:
        if p is None:
            continue
        seen += 1
        if len(p) <= 48 and _REPLY_GREETING.fullmatch(p.strip()):  # a greeting is a short line
            found += 1
            if found >= n:
                return True
        elif not found and seen >= _REPLY_WITHIN:
            return False
    return False


def _run_length(forms: list[str], i: int, rule: Rule, runs: dict[tuple[str, int], int] | None = None) -> int:
    """Length of the run of consecutive paragraphs matching ``rule`` around ``i`` (``runs``: the
    lengths found so far in this document, by rule and paragraph, filled for the whole run)."""
    if runs is not None and (rule.id, i) in runs:
        return runs[(rule.id, i)]

    def hit(j: int) -> bool:
        return word_count(forms[j]) <= rule.max_words and rule.regex.fullmatch(forms[j]) is not None

    lo = i
    while lo > 0 and hit(lo - 1):
        lo -= 1
    hi = i
    while hi + 1 < len(forms) and hit(hi + 1):
        hi += 1
    if runs is not None:
        for j in range(lo, hi + 1):
            runs[(rule.id, j)] = hi - lo + 1
    return hi - lo + 1


def _load_packs(extra_dirs: tuple[str, ...]) -> tuple[RulePack, ...]:
    return _packs_of(_fingerprint(extra_dirs))


def _fingerprint(extra_dirs: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    """The pack files with their modification time and size: an edited or added pack is read
    again by the next run of a long-lived worker, an unchanged one is not."""
    out = []
    for f in pack_files(extra_dirs):
        st = f.stat()
        out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


@lru_cache(maxsize=8)
def _packs_of(files: tuple[tuple[str, int, int], ...]) -> tuple[RulePack, ...]:
    return tuple(load_pack(Path(f)) for f, _, _ in files)


def load_rules(packs: Sequence[str] | None = None, disabled: Sequence[str] = (),
               extra_dirs: Sequence[str] = (), edge: int = 5, min_rest_words: int = 8) -> RuleSet:
    """The rule set for a configuration: bundled packs (or the named ones) plus extra folders.

    Built once per process, configuration and version of the pack files: the shards of a run share
    it, and with it the compiled prefilters and the cache of recent verdicts."""
    files = _fingerprint(tuple(extra_dirs))
    return _rule_set(files, None if packs is None else tuple(packs), tuple(disabled), edge, min_rest_words)


def rules_for(b: BoilerplateConfig) -> RuleSet:
    """The rule set of a configuration's ``[boilerplate]`` section (whether or not it is enabled):
    the one the cleaner applies, and whose pack versions a run records."""
    return load_rules(b.packs, b.disable_rules, b.extra_rule_dirs, b.edge_paragraphs, b.min_rest_words)


@lru_cache(maxsize=8)
def _rule_set(files: tuple[tuple[str, int, int], ...], packs: tuple[str, ...] | None,
              disabled: tuple[str, ...], edge: int, min_rest_words: int) -> RuleSet:
    all_packs = _packs_of(files)
    if packs is not None:
        known = {p.id for p in all_packs}
        missing = set(packs) - known
        if missing:
            raise RuleError(f"unknown rule packs: {', '.join(sorted(missing))} (known: {', '.join(sorted(known))})")
        chosen = [p for p in all_packs if p.id in set(packs)]
    else:
        chosen = list(all_packs)
    return RuleSet(chosen, disabled, edge, min_rest_words)
