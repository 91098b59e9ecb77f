"""Near-duplicate detection on syndicated copies, after cleaning and on raw text.

    python bench/syndicated.py [--seed 7] [--out bench/out/syndicated]

Builds the syndicated-copies set (scrapewash/syndicate.py) from the gold article bodies of
../shared/evaldata (scrapinghub-aeb, and wcxb-dev's article pages), wrapped in the boilerplate of
the sets' `dump` pages, runs the clean-corpus flow on it twice — as configured, and with every
cleaning stage off (MinHash on the raw pages) — and prints adjusted Rand index, pair precision
and pair recall of the duplicate clusters.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"


def load_set(max_wcxb: int = 400):
    from scrapewash.evaluate import read_jsonl
    from scrapewash.syndicate import wrappers_from

    bodies, wrappers = [], []
    for name in ("scrapinghub-aeb", "wcxb-dev"):
        gold_recs = read_jsonl(EVALDATA / name / "gold.jsonl.gz")
        gold = {str(g["id"]): g["gold"] for g in gold_recs}
        arts = [g for g in gold_recs if g.get("page_type", "article") == "article"]
        bodies += arts[:max_wcxb] if name == "wcxb-dev" else arts
        wrappers += wrappers_from(read_jsonl(EVALDATA / name / "dump.jsonl.gz"), gold, limit=150)
    return bodies, wrappers


def run(docs, truth, out: Path, raw: bool):
    from prefect.task_runners import ThreadPoolTaskRunner

    from scrapewash.config import Config, RunParameters
    from scrapewash.flows.clean_corpus import clean_corpus
    from scrapewash.syndicate import duplicate_links, score_clusters, write_jsonl

    out.mkdir(parents=True, exist_ok=True)
    src = out / "syndicated.jsonl"
    write_jsonl(docs, src)
    cfg = Config()
    if raw:
        cfg = Config.model_validate({"boilerplate": {"enabled": False}, "repeats": {"enabled": False},
                                     "content": {"enabled": False},
                                     "templates": {"enabled": False}, "paragraph_dedup": {"enabled": False}})
    flow = clean_corpus.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))
    dest = out / ("raw" if raw else "clean")
    # Each run is scored alone: read again, superseding an earlier run of the same output, and no
    # deduplication against other runs.
    cfg = cfg.model_copy(update={"dedup": cfg.dedup.model_copy(update={"across_runs": False})})
    counts = flow(params=RunParameters(inputs=[str(src)], out=str(dest), config=cfg, reprocess=True))
    return score_clusters(truth, duplicate_links(dest, counts["run_id"]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "syndicated"))
    args = ap.parse_args()
    if not EVALDATA.exists():
        print(f"needs {EVALDATA}", file=sys.stderr)
        return 2
    from scrapewash.syndicate import build

    bodies, wrappers = load_set()
    docs, truth = build(bodies, wrappers, seed=args.seed)
    rows = [("clean, then MinHash (default)", run(docs, truth, Path(args.out), raw=False)),
            ("MinHash on the raw pages", run(docs, truth, Path(args.out), raw=True))]
    s = rows[0][1]
    print(f"{s['documents']} documents, {s['true_clusters_with_copies']} stories with copies, {s['true_pairs']} true pairs")
    print("| pipeline | ARI | pair precision | pair recall | predicted pairs |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['adjusted_rand_index']:.4f} | {r['pair_precision']:.4f} | {r['pair_recall']:.4f} "
              f"| {r['predicted_pairs']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
