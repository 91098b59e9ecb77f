"""Cleaning quality: word 4-gram shingle overlap against a gold text.

The metric of the article-extraction benchmarks: tokens are ``\\w+`` runs;
true/false positives and false negatives are counted on the *multisets* of
word 4-grams of the kept text and the gold text; precision is averaged over
documents with TP+FP > 0, recall over documents with TP+FN > 0, and F1 is the
harmonic mean of the two averages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")


def shingle_multiset(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    toks = _TOKEN.findall(text)
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def doc_counts(predicted: str, gold: str, n: int = 4) -> Counts:
    p = shingle_multiset(predicted, n)
    g = shingle_multiset(gold, n)
    tp = sum((p & g).values())
    return Counts(tp, sum(p.values()) - tp, sum(g.values()) - tp)


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    documents: int


def score(pairs: Iterable[tuple[str, str]], n: int = 4) -> Score:
    """Score ``(predicted, gold)`` text pairs."""
    precisions, recalls = [], []
    docs = 0
    for predicted, gold in pairs:
        docs += 1
        c = doc_counts(predicted, gold, n)
        if c.precision is not None:
            precisions.append(c.precision)
        if c.recall is not None:
            recalls.append(c.recall)
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Score(p, r, f1, docs)
