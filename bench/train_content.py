"""Train and validate the line model (``tasks/models/content-v*.json[.gz]``).

    python bench/train_content.py --threshold 0.4 --out bench/out/content.json.gz   # content-v6's recipe
    python bench/train_content.py --threshold 0.4 --export-folds page               # its second stage by page
    python bench/train_content.py --stages 1 --threshold 0.4 --out bench/out/content-v5.json

The features are those of the current cleaning code, so the recipe reproduces a bundled model byte
for byte only with the rule packs it was trained on (``content-v6``: legal pack v5; see
bench/RESULTS.md). Without ``--out`` the model goes to ``bench/out/content.json.gz``: a bundled model
in ``tasks/models/`` is replaced only by naming it.

Needs ``lightgbm`` (``pip install -e ".[train]"``) and ../shared/evaldata beside the checkout.

1. Every raw variant of every set is cleaned up to the line model (encoding, rule packs,
   in-document repeats), and every remaining line gets the features of ``tasks/content.py``.
2. A line's label comes from the human gold: the share of its words that sit in a word 4-gram
   (of the page's remaining text) that also occurs in the gold text; content if at least half.
3. Validation is by data set: a model trained on scrapinghub-aeb scores wcxb-dev and the reverse,
   and 5 folds by page within the pooled data (by page id, so a page's ``recall`` and ``dump``
   variants are held out together: :func:`page_folds`); the table gives the word-4-gram F1 of the kept lines
   against the gold at each threshold, next to keeping every remaining line.
4. The exported model is trained on all pages, with the threshold that maximises the mean F1 of the
   out-of-fold predictions among the thresholds that leave no set below keeping every line.
5. Two stages (``--stages 2``, the default): a second model reads, beside each line's features, the
   context of the first model's scores over the page (``content.CONTEXT_FEATURES``). It is trained on
   the first stage's out-of-fold scores, as a run's first stage sees pages it was not trained on:
   5 folds of documents numbered across the sets (``--export-folds document``, content-v6's recipe,
   where a page's other variant may be among a fold's training pages), or by page (``page``).
   Validation nests by page (the first stage's scores of a held-out page come
   from a model that did not see it). The table gives both stages' predictions, and the wcxb ``dump``
   snippets kept and removed by the kept lines.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
SETS = [("scrapinghub-aeb", "recall"), ("scrapinghub-aeb", "dump"), ("wcxb-dev", "recall"), ("wcxb-dev", "dump")]
_TOKEN = re.compile(r"\w+")


def _load(path: Path) -> dict[str, dict]:
    from scrapewash.evaluate import read_jsonl

    return {d["id"]: d for d in read_jsonl(path)}


def _fingerprint() -> str:
    """What the cached features depend on: the cleaning code and rule packs before the line model."""
    h = hashlib.blake2b(digest_size=8)
    tasks = ROOT / "tasks"
    for f in [*(tasks / n for n in ("encoding.py", "boilerplate.py", "repeats.py", "content.py", "clean.py")),
              *sorted((tasks / "rules").glob("*.toml"))]:
        h.update(f.read_bytes())
    return h.hexdigest()


def _labels(lines: list[str], gold: str) -> np.ndarray:
    g = _TOKEN.findall(gold)
    g4 = {tuple(g[i:i + 4]) for i in range(len(g) - 3)}
    gset = set(g)
    toks: list[str] = []
    owner: list[int] = []
    for k, line in enumerate(lines):
        t = _TOKEN.findall(line)
        toks += t
        owner += [k] * len(t)
    covered = np.zeros(len(toks), dtype=bool)
    for i in range(len(toks) - 3):
        if tuple(toks[i:i + 4]) in g4:
            covered[i:i + 4] = True
    hit = np.zeros(len(lines))
    n = np.zeros(len(lines))
    for i, k in enumerate(owner):
        n[k] += 1
        hit[k] += covered[i]
    if len(toks) < 4:  # too short for 4-grams: fall back to single words
        for i, k in enumerate(owner):
            hit[k] += toks[i] in gset
    return np.where(n > 0, hit / np.maximum(n, 1), 0.0) >= 0.5


def build(cache: Path) -> dict:
    fingerprint = _fingerprint()
    if cache.exists():
        z = np.load(cache, allow_pickle=True)
        if "fingerprint" in z.files and str(z["fingerprint"]) == fingerprint and "ids" in z.files:
            return {k: z[k] for k in z.files}
        print(f"{cache} was made by other cleaning code: rebuilding", file=sys.stderr)
    from scrapewash.config import Config
    from scrapewash.records import RawDocument
    from scrapewash.tasks import content
    from scrapewash.tasks.clean import Cleaner

    # The title stays among the lines, as the line model sees it in a run (protected, not judged).
    cfg = Config.model_validate({"content": {"enabled": False}, "title": {"enabled": False}})
    cleaner = Cleaner(cfg)
    xs, ys, doc, group, words = [], [], [], [], []
    texts: list[str] = []
    golds: list[str] = []
    ids: list[str] = []
    doc_no = 0
    for s, (name, variant) in enumerate(SETS):
        raw = _load(EVALDATA / name / f"{variant}.jsonl.gz")
        gold = _load(EVALDATA / name / "gold.jsonl.gz")
        t0 = time.perf_counter()
        for k in sorted(raw):
            if k not in gold or not isinstance(raw[k].get("text"), str):
                continue
            r = RawDocument(doc_id=k, text=raw[k]["text"], source=name, order=doc_no, url=raw[k].get("url"),
                            input_position=str(doc_no))
            cd = cleaner.clean(r)
            cur: list[str | None] = [None] * cd.n_input_paragraphs  # what the line model would see
            for i, p in zip(cd.kept_indexes, cd.paragraphs, strict=True):
                cur[i] = p
            idx, x = content.features(cur, cd.blocks)
            golds.append(gold[k]["gold"] or "")
            ids.append(k)
            if idx:
                lines = [cur[i] for i in idx]
                xs.append(x)
                ys.append(_labels(lines, gold[k]["gold"] or ""))
                doc += [doc_no] * len(idx)
                group += [s] * len(idx)
                words += [len(ln.split()) for ln in lines]
                texts += lines
            doc_no += 1
        print(f"{name} {variant}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    data = {"x": np.vstack(xs), "y": np.concatenate(ys), "doc": np.array(doc), "set": np.array(group),
            "words": np.array(words), "text": np.array(texts, dtype=object), "gold": np.array(golds, dtype=object),
            "ids": np.array(ids, dtype=object),
            "fingerprint": np.array(fingerprint)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **data)
    return data


def set_f1(data: dict, keep: np.ndarray, s: int) -> float:
    from scrapewash.metrics import score

    sel = data["set"] == s
    docs = np.unique(data["doc"][sel])
    kept: dict[int, list[str]] = {int(d): [] for d in docs}
    for d, t, k in zip(data["doc"][sel], data["text"][sel], keep[sel], strict=True):
        if k:
            kept[int(d)].append(t)
    return score(("\n".join(kept[int(d)]), data["gold"][int(d)]) for d in docs).f1


# The bundled recipe (``content-v6``): each stage's trees, leaves and learning rate; pages weigh alike.
TREES, FIRST_TREES, LEAVES, RATE, FIRST_RATE, WEIGHT = 400, 400, 31, 0.08, 0.08, "page"


def page_fold_of(ids, k: int = 5) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Each page id's fold: the ids in sorted order, numbered, modulo ``k``."""
    return {p: n % k for n, p in enumerate(sorted({str(i) for i in ids}))}


def page_folds(data: dict, k: int = 5) -> np.ndarray:
    """Each line's fold, by page (:func:`page_fold_of`). A page's variants (its ``recall`` and
    ``dump`` texts share the page's id and gold) fall in the same fold, so a held-out page's other
    variant is never among the training pages."""
    fold = page_fold_of(data["ids"], k)
    doc_fold = np.array([fold[str(i)] for i in data["ids"]], dtype=np.int64)
    return doc_fold[data["doc"]]


def out_of_fold(fit, x: np.ndarray, within: np.ndarray, folds: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Scores of the rows of ``within``, each from ``fit(rows)`` (a model trained on a row mask)
    of the other folds of ``within``; 0 elsewhere."""
    p = np.zeros(len(x))
    for f in np.unique(folds[within]):
        rows = within & (folds == f)
        p[rows] = fit(within & (folds != f)).predict(x[rows])
    return p


def weights(data: dict, how: str) -> np.ndarray | None:
    if how == "none":
        return None
    w = data["words"].astype(np.float64)
    if how == "words":
        return np.sqrt(w)
    per_doc = np.bincount(data["doc"], weights=w)
    return w / np.maximum(per_doc[data["doc"]], 1) * 50  # every page weighs the same


def train(x: np.ndarray, y: np.ndarray, trees: int, leaves: int, w: np.ndarray | None = None, rate: float = RATE):
    import lightgbm as lgb

    params = {"objective": "binary", "num_leaves": leaves, "learning_rate": rate, "min_data_in_leaf": 40,
              "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
              "verbose": -1, "seed": 7, "num_threads": 2, "deterministic": True, "force_row_wise": True}
    return lgb.train(params, lgb.Dataset(x, y.astype(np.float64), weight=w), num_boost_round=trees)


def _flatten(node: dict, tree: dict[str, list], d: int = 0) -> tuple[int, int]:
    """Append ``node`` (a LightGBM tree dump) to ``tree``'s arrays; return (its index, subtree depth)."""
    k = len(tree["feature"])
    for key, v in (("feature", 0), ("threshold", 0.0), ("left", -1), ("right", -1), ("value", 0.0)):
        tree[key].append(v)
    if "leaf_value" in node:
        tree["value"][k] = float(node["leaf_value"])
        return k, d
    if node.get("decision_type", "<=") != "<=":
        raise ValueError("only numeric <= splits are supported")
    tree["feature"][k] = int(node["split_feature"])
    tree["threshold"][k] = float(node["threshold"])
    tree["left"][k], dl = _flatten(node["left_child"], tree, d + 1)
    tree["right"][k], dr = _flatten(node["right_child"], tree, d + 1)
    return k, max(dl, dr)


def spec_of(booster, features: tuple[str, ...]) -> dict:
    """A trained booster as plain data: flat trees of (feature, threshold) splits."""
    trees = []
    depth = 0
    for t in booster.dump_model()["tree_info"]:
        tree: dict[str, list] = {"feature": [], "threshold": [], "left": [], "right": [], "value": []}
        _, d = _flatten(t["tree_structure"], tree)
        depth = max(depth, d)
        trees.append(tree)
    gain = booster.feature_importance(importance_type="gain")
    total = float(gain.sum()) or 1.0
    return {"kind": "gradient-boosted trees (binary log-loss)", "trained_by": "bench/train_content.py",
            "features": list(features), "base_score": 0.0, "max_depth": depth,
            "importance": {f: round(float(g) / total, 4) for f, g in zip(features, gain, strict=True)},
            "trees": trees}


def model_name(path: Path) -> str:
    """``content-v6`` of ``.../content-v6.json`` or ``.../content-v6.json.gz``."""
    return path.name.removesuffix(".gz").removesuffix(".json")


def export(spec: dict, threshold: float, path: Path, version: int, first: dict | None = None) -> None:
    """Write the model; gzip-compressed (without a time stamp, so the bytes repeat) for ``.gz``."""
    name = model_name(path)
    out = {"name": name, "version": version, **spec, "threshold": round(threshold, 3)}
    if first is not None:
        out["kind"] = "two-stage gradient-boosted trees (binary log-loss); the second reads the first's scores"
        out["first"] = {"name": f"{name}-first", "version": version, **first}
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(out, separators=(",", ":")) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if path.name.endswith(".gz") else data)


def with_context(data: dict, p: np.ndarray) -> np.ndarray:
    """The second stage's rows: each line's features and the context of the first-stage scores ``p``
    over its page (the rows of a page are contiguous and in page order)."""
    from scrapewash.tasks.content import context_features

    x, doc = data["x"], data["doc"]
    starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    ends = np.r_[starts[1:], len(doc)]
    ctx = np.vstack([context_features(p[s:e], x[s:e]) for s, e in zip(starts, ends, strict=True)])
    return np.hstack([x, ctx])


class Snippets:
    """wcxb ``dump``'s snippets: the share of ``with`` kept and of ``without`` removed by the kept lines
    (what the rules and repeats removed before the line model counts as removed)."""

    def __init__(self, data: dict) -> None:
        from scrapewash.config import Config
        from scrapewash.tasks import encoding

        self.set = SETS.index(("wcxb-dev", "dump"))
        raw = _load(EVALDATA / "wcxb-dev" / "dump.jsonl.gz")
        self.records = [{**g, "_raw": raw[k]["text"]} for k, g in _load(EVALDATA / "wcxb-dev" / "gold.jsonl.gz").items()
                        if k in raw and isinstance(raw[k].get("text"), str)]
        cfg = Config().encoding
        self.repair = lambda t: encoding.repair(t, cfg)[0]
        self.data = data

    def __call__(self, keep: np.ndarray) -> tuple[float, float]:
        from scrapewash.evaluate import snippet_scores

        d = self.data
        sel = (d["set"] == self.set) & keep
        texts: dict[str, list[str]] = {}
        for doc, t in zip(d["doc"][sel], d["text"][sel], strict=True):
            texts.setdefault(str(d["ids"][int(doc)]), []).append(t)
        s = snippet_scores(self.records, {k: "\n".join(v) for k, v in texts.items()}, self.repair)
        assert s is not None
        return s["with_kept"], s["without_removed"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "content.json.gz"),
                    help="where the model goes (a bundled model in tasks/models/ is replaced only by naming it)")
    ap.add_argument("--cache", default=str(ROOT / "bench" / "out" / "content-features.npz"))
    ap.add_argument("--stages", type=int, choices=(1, 2), default=2)
    ap.add_argument("--trees", type=int, default=TREES)
    ap.add_argument("--first-trees", type=int, default=FIRST_TREES, help="trees of a two-stage model's first stage")
    ap.add_argument("--first-rate", type=float, default=FIRST_RATE, help="the first stage's learning rate")
    ap.add_argument("--leaves", type=int, default=LEAVES)
    ap.add_argument("--protect-words", type=int, default=40)
    ap.add_argument("--weight", choices=("none", "words", "page"), default=WEIGHT)
    ap.add_argument("--export-folds", choices=("document", "page"), default="document",
                    help="the folds whose out-of-fold first-stage scores the exported second stage learns from: "
                         "documents numbered across the sets, content-v6's recipe (a page's other variant may "
                         "be among the first stage's training pages), or pages (page_folds)")
    ap.add_argument("--threshold", type=float,
                    help="export with this threshold instead of the scan's choice (content-v3 to v6: 0.40)")
    args = ap.parse_args()
    if not EVALDATA.exists():
        print(f"needs {EVALDATA}", file=sys.stderr)
        return 2
    from scrapewash.tasks.content import ALL_FEATURES, FEATURES

    data = build(Path(args.cache))
    x, y = data["x"], data["y"]
    w = weights(data, args.weight)
    sub = (lambda m: None) if w is None else (lambda m: w[m])

    def fit(rows: np.ndarray, m: np.ndarray, first: bool = False):
        """A model on the rows ``m`` of ``rows``; ``first``: a two-stage model's first stage."""
        if first and args.stages == 2:
            return train(rows[m], y[m], args.first_trees, args.leaves, sub(m), args.first_rate)
        return train(rows[m], y[m], args.trees, args.leaves, sub(m))

    print(f"{len(y)} lines, {y.mean():.1%} content", file=sys.stderr)
    fold = page_folds(data)

    def first_oof(within: np.ndarray, folds: np.ndarray = fold) -> np.ndarray:
        """First-stage scores of the lines of ``within``, each from a model trained on the other folds of it."""
        return out_of_fold(lambda m: fit(x, m, first=True), x, within, folds)

    everything = np.ones(len(y), dtype=bool)
    aeb = np.isin(data["set"], [0, 1])
    predictions: list[tuple[str, np.ndarray]] = []
    cross = np.zeros(len(y))
    cross2 = np.zeros(len(y))
    for tr in (aeb, ~aeb):
        cross[~tr] = fit(x, tr).predict(x[~tr])
        if args.stages == 2:  # second stage on the training set's out-of-fold first-stage scores
            p = first_oof(tr)
            p[~tr] = fit(x, tr, first=True).predict(x[~tr])
            x2 = with_context(data, p)
            cross2[~tr] = fit(x2, tr).predict(x2[~tr])
    print("trained across data sets", file=sys.stderr)
    oof = first_oof(everything)
    predictions = [("other data set", cross), ("5 folds by page", oof)]
    if args.stages == 2:
        # Nested: a held-out fold's first-stage scores come from a model that did not see it (``oof``);
        # the second stage of fold f is trained on the other folds' rows, their first-stage scores
        # also out of fold.
        x2 = with_context(data, oof)
        oof2 = out_of_fold(lambda m: fit(x2, m), x2, everything, fold)
        predictions = [(f"other data set, one stage of {args.trees} trees", cross),
                       ("other data set, two stages", cross2),
                       (f"5 folds by page, the first stage ({args.first_trees} trees) alone", oof),
                       ("5 folds by page, two stages", oof2)]
    protect = data["words"] >= args.protect_words
    snippets = Snippets(data)
    names = [f"{n} {v}" for n, v in SETS]
    print("| predictions | threshold | " + " | ".join(names) + " | mean | wcxb `dump` `with` kept / `without` removed |")
    print("|---|---:|" + "---:|" * (len(SETS) + 1) + "---|")
    base = [set_f1(data, np.ones(len(y), dtype=bool), s) for s in range(len(SETS))]
    print("| keep every line | — | " + " | ".join(f"{b:.4f}" for b in base) + f" | {np.mean(base):.4f} | |")
    best = (0.0, 0.2)
    chosen = predictions[-1][0]
    for label, pred in predictions:
        for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
            keep = (pred >= t) | protect
            f = [set_f1(data, keep, s) for s in range(len(SETS))]
            kept, removed = snippets(keep)
            print(f"| {label} | {t:.2f} | " + " | ".join(f"{v:.4f}" for v in f)
                  + f" | {np.mean(f):.4f} | {kept:.1%} / {removed:.1%} |", flush=True)
            # the best mean F1 among thresholds that leave no set worse than keeping every line
            no_loss = all(round(v, 3) >= round(b, 3) for v, b in zip(f, base, strict=True))
            if label == chosen and no_loss and np.mean(f) > best[0]:
                best = (float(np.mean(f)), t)
    if args.threshold is not None:
        best = (best[0], args.threshold)
    first = fit(x, everything, first=True)
    out = Path(args.out)
    version = re.search(r"-v(\d+)$", model_name(out))  # content-v3.json: version 3
    number = int(version.group(1)) if version else 0
    if args.stages == 1:
        export(spec_of(first, FEATURES), best[1], out, number)
        final, rows = first, x
    else:
        # The second stage learns from first-stage scores of unseen pages (or, with the document folds, of
        # unseen documents).
        seen = oof if args.export_folds == "page" else first_oof(everything, data["doc"] % 5)
        final = fit(with_context(data, seen), everything)
        export(spec_of(final, ALL_FEATURES), best[1], out, number, first=spec_of(first, FEATURES))
        rows = with_context(data, first.predict(x))  # as a run makes them, with the exported first stage
    from scrapewash.tasks.content import ContentModel, read_spec

    model = ContentModel(read_spec(out))
    pages = np.unique(data["doc"])[:: max(1, len(np.unique(data["doc"])) // 300)]
    diff = 0.0
    for d in pages:  # the exported model, page by page as a run scores it, against the trained boosters
        m = data["doc"] == d
        diff = max(diff, float(np.abs(model.score(model.page_rows(x[m])) - final.predict(rows[m])).max()))
    print(f"exported trees reproduce the trained model to {diff:.1e} on {len(pages)} pages", file=sys.stderr)
    if diff > 1e-6:
        raise SystemExit("exported model does not reproduce the trained one")
    print(f"wrote {args.out} (threshold {best[1]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
