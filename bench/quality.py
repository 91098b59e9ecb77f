"""Cleaning quality on the shared evaluation sets, next to doing nothing.

    python bench/quality.py [--config FILE] [--out bench/out/quality]

Runs ``scrapewash eval`` on every raw variant of every set in ../shared/evaldata and prints a
Markdown table of word-4-gram precision, recall and F1 (metric: ../shared/evaldata/README.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
SETS = [("scrapinghub-aeb", "recall"), ("scrapinghub-aeb", "dump"), ("wcxb-dev", "recall"), ("wcxb-dev", "dump")]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "quality"))
    args = ap.parse_args()
    if not EVALDATA.exists():
        print(f"needs {EVALDATA}", file=sys.stderr)
        return 2
    rows = []
    for name, variant in SETS:
        out = Path(args.out) / f"{name}-{variant}"
        result = out / "scores.json"
        cmd = [sys.executable, "-m", "scrapewash.cli", "eval", str(EVALDATA / name / f"{variant}.jsonl.gz"),
               "--gold", str(EVALDATA / name / "gold.jsonl.gz"), "--out", str(out), "--json", str(result)]
        if args.config:
            cmd += ["--config", args.config]
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(cmd, check=True, capture_output=True)
        r = json.loads(result.read_text())
        rows.append((name, variant, r["documents"], r["doing_nothing"], r["cleaned"]))
    print("| set | docs | doing nothing P / R / F1 | scrapewash P / R / F1 |")
    print("|---|---:|---|---|")
    for name, variant, n, b, c in rows:
        print(f"| {name} `{variant}` | {n} | {b['precision']:.3f} / {b['recall']:.3f} / **{b['f1']:.3f}** "
              f"| {c['precision']:.3f} / {c['recall']:.3f} / **{c['f1']:.3f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
