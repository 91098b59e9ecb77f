"""The whole pipeline's quality on pages its line model never saw.

    python bench/heldout.py [--folds 5] [--out bench/out/heldout] [--json FILE]
    python bench/heldout.py --config FILE [--sets scrapinghub-aeb/recall ...]   # another configuration

The bundled line model is trained on every page of ../shared/evaldata, so ``bench/quality.py``
scores it on its own training pages. This benchmark gives the number to expect on other pages:

1. The pages are split into ``--folds`` folds by page id (``train_content.page_folds``): a page's
   ``recall`` and ``dump`` variants share its id and gold, and always fall in the same fold.
2. For each fold, a line model is trained with the bundled recipe (``bench/train_content.py``'s
   defaults: two stages of 400 trees, the second on out-of-fold first-stage scores, pages weighed
   alike, the bundled model's threshold; ``--inner`` as ``train_content.py --export-folds``) on the
   other folds' pages only. The held-out fold's pages reach no stage of its training.
3. Every set is cleaned whole once per fold model (``scrapewash eval`` with ``[content] model`` set
   to it), so the corpus-wide stages (site templates, duplicate paragraphs, near-duplicate pages) see
   the same corpus as in ``bench/quality.py``; each page's kept text and title are taken from the run
   whose model did not see it, and scored against the gold as ``scrapewash eval`` scores a run.

``--config`` applies a configuration to every run (a threshold, a switched-off stage: a setting chosen
on held-out pages rather than on the model's own training pages). The fold models are kept under
``--out`` and trained again only when the features, the folds or the recipe change.

Needs ``lightgbm`` (``pip install -e ".[train]"``) and ../shared/evaldata beside the checkout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import quality  # noqa: E402
import train_content as tc  # noqa: E402

ROOT = HERE.parent


def fold_model(data: dict, held_out: int, fold: np.ndarray, threshold: float, path: Path,
               inner: np.ndarray | None = None) -> None:
    """Train the bundled recipe's two-stage model on the lines of the pages outside fold ``held_out``
    and write it to ``path``. ``inner``: the folds that give the second stage its first-stage scores
    (default ``fold``: by page)."""
    from scrapewash.tasks.content import ALL_FEATURES, FEATURES

    x, y = data["x"], data["y"]
    w = tc.weights(data, tc.WEIGHT)
    train = fold != held_out

    def fit(rows: np.ndarray, m: np.ndarray, trees: int, rate: float):
        return tc.train(rows[m], y[m], trees, tc.LEAVES, w[m], rate)

    # The second stage learns from first-stage scores of pages the first stage did not see: the other
    # training folds' models score each training fold.
    p = tc.out_of_fold(lambda m: fit(x, m, tc.FIRST_TREES, tc.FIRST_RATE), x, train,
                       fold if inner is None else inner)
    first = fit(x, train, tc.FIRST_TREES, tc.FIRST_RATE)
    final = fit(tc.with_context(data, p), train, tc.TREES, tc.RATE)
    tc.export(tc.spec_of(final, ALL_FEATURES), threshold, path, 0, first=tc.spec_of(first, FEATURES))


def run_set(raw: Path, gold: Path, out: Path, model: Path,
            settings: dict | None = None) -> tuple[dict[str, str], dict[str, str | None]]:
    """Clean one set whole with ``model`` (and the configuration ``settings``, as a configuration
    file's sections) by ``scrapewash eval`` (``quality.evaluate``); its kept texts and titles by page id."""
    from scrapewash.evaluate import kept_texts, kept_titles

    out.mkdir(parents=True, exist_ok=True)
    given = json.loads(json.dumps(settings or {}))
    given.setdefault("content", {})["model"] = str(model)
    config = out / "config.json"
    config.write_text(json.dumps(given, indent=2) + "\n", encoding="utf-8")
    run_id = quality.evaluate(raw, gold, out, str(config))["run_id"]
    return kept_texts(out, run_id), kept_titles(out, run_id)


def from_own_fold(runs: list[dict[str, Any]], fold_of: dict[str, int]) -> dict[str, Any]:
    """Each page's value from the run of its own fold: ``runs[f]`` maps page ids to what the run
    with fold ``f``'s model kept. A page its own run did not keep (emptied, a near duplicate) stays
    absent, whatever the other runs kept of it."""
    return {i: v for f, run in enumerate(runs) for i, v in run.items() if fold_of.get(i) == f}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "heldout"))
    ap.add_argument("--cache", default=str(ROOT / "bench" / "out" / "content-features.npz"))
    ap.add_argument("--json", help="also write the scores as JSON to this file")
    ap.add_argument("--inner", choices=("document", "page"), default="document",
                    help="the folds whose out-of-fold first-stage scores the second stage learns from, among the "
                         "training pages: documents numbered across the sets (default: the bundled model's recipe, "
                         "train_content.py --export-folds document) or pages")
    ap.add_argument("--config", help="a configuration file (TOML or JSON) for every run; its [content] model is "
                                     "replaced by each fold's model")
    ap.add_argument("--sets", nargs="+", choices=[f"{n}/{v}" for n, v in tc.SETS],
                    help="only these sets (default: all four)")
    args = ap.parse_args()
    if not tc.EVALDATA.exists():
        print(f"needs {tc.EVALDATA}", file=sys.stderr)
        return 2
    from scrapewash.config import Config
    from scrapewash.evaluate import read_jsonl, score_run
    from scrapewash.tasks import encoding
    from scrapewash.tasks.content import load_model

    out = Path(args.out)
    data = tc.build(Path(args.cache))
    fold = tc.page_folds(data, args.folds)
    fold_of = tc.page_fold_of(data["ids"], args.folds)
    bundled = load_model(Config().content.model)
    config = Config.load(args.config)
    settings = config.model_dump(mode="json", exclude_unset=True)
    # The fold models are trained again only when what they depend on changed: the features, the
    # folds, the recipe and its variant, and the bundled model's threshold.
    recipe = {"features": str(data["fingerprint"]), "folds": args.folds, "inner": args.inner,
              "threshold": bundled.default_threshold,
              "recipe": [tc.TREES, tc.FIRST_TREES, tc.LEAVES, tc.RATE, tc.FIRST_RATE, tc.WEIGHT]}
    stamp = out / "models" / "recipe.json"
    models = [(out / "models" / f"fold-{f}.json.gz").resolve() for f in range(args.folds)]
    if not (stamp.exists() and json.loads(stamp.read_text()) == recipe and all(m.exists() for m in models)):
        stamp.unlink(missing_ok=True)
        for f, path in enumerate(models):
            t0 = time.perf_counter()
            fold_model(data, f, fold, bundled.default_threshold, path,
                       None if args.inner == "page" else data["doc"] % 5)
            print(f"fold {f}: model trained on {int((fold != f).sum())} lines in {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr)
        stamp.write_text(json.dumps(recipe) + "\n")
    else:
        print(f"fold models of {stamp.parent} reused (same features and recipe)", file=sys.stderr)
    results = {}
    for name, variant in tc.SETS:
        if args.sets and f"{name}/{variant}" not in args.sets:
            continue
        raw_path = tc.EVALDATA / name / f"{variant}.jsonl.gz"
        gold_path = tc.EVALDATA / name / "gold.jsonl.gz"
        runs = []
        for f, model in enumerate(models):
            t0 = time.perf_counter()
            runs.append(run_set(raw_path, gold_path, out / f"{name}-{variant}" / f"fold-{f}", model, settings))
            print(f"{name} {variant}, fold {f}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        kept = from_own_fold([texts for texts, _ in runs], fold_of)
        titles = from_own_fold([heads for _, heads in runs], fold_of)
        r = score_run(read_jsonl(raw_path), read_jsonl(gold_path), kept, report=0, titles=titles,
                      repair=lambda t: encoding.repair(t, config.encoding)[0])
        r.pop("worst_documents", None)
        results[f"{name}/{variant}"] = r
    print("| set | docs | doing nothing F1 | held out P / R / F1 | snippets `with` kept / `without` removed |")
    print("|---|---:|---:|---|---|")
    for key, r in results.items():
        c, s = r["cleaned"], r.get("snippets")
        snip = f"{s['with_kept']:.2%} / {s['without_removed']:.2%}" if s and s.get("with_kept") is not None else ""
        print(f"| {key} | {r['documents']} | {r['doing_nothing']['f1']:.4f} | {c['precision']:.4f} / "
              f"{c['recall']:.4f} / **{c['f1']:.4f}** | {snip} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"folds": args.folds, "sets": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
