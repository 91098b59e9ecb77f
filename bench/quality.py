"""Cleaning quality on the shared evaluation sets, next to doing nothing.

    python bench/quality.py [--config FILE] [--out bench/out/quality] [--references]

Runs ``scrapewash eval`` on every raw variant of every set in ../shared/evaldata and prints a
Markdown table of word-4-gram precision, recall and F1 (metric: ../shared/evaldata/README.md).

``--references`` also cleans what eight other extractors made of the scrapinghub-aeb pages
(``scrapinghub-aeb/reference-outputs/``: all text, boilerpipe, dragnet, goose3, jusText, newspaper,
readability, trafilatura), inputs of other shapes than the two raw variants, and scores each against
the same gold next to doing nothing. Their inputs are written as JSONL under ``--out``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
SETS = [("scrapinghub-aeb", "recall"), ("scrapinghub-aeb", "dump"), ("wcxb-dev", "recall"), ("wcxb-dev", "dump")]
REFERENCES = ("html-text", "boilerpipe", "dragnet", "goose3", "justext", "newspaper", "readability", "trafilatura")


def reference_input(system: str, out: Path) -> Path:
    """Write one extractor's outputs for the scrapinghub-aeb pages as eval input JSONL (id, url, text)."""
    aeb = EVALDATA / "scrapinghub-aeb"
    with gzip.open(aeb / "gold.jsonl.gz", "rt", encoding="utf-8") as f:
        urls = {d["id"]: d.get("url") for d in map(json.loads, f)}
    with gzip.open(aeb / "reference-outputs" / f"{system}.json.gz", "rt", encoding="utf-8") as f:
        outputs = json.load(f)
    outputs = outputs.get("output", outputs)  # some files wrap the mapping in {"output": ...}
    path = out / f"{system}.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for key, value in outputs.items():
            doc_id = f"aeb-{key}"
            if doc_id in urls:
                text = value.get("articleBody") if isinstance(value, dict) else value
                f.write(json.dumps({"id": doc_id, "url": urls[doc_id], "text": text or ""}, ensure_ascii=False) + "\n")
    return path


def evaluate(raw: Path, gold: Path, out: Path, config: str | None) -> dict:
    result = out / "scores.json"
    cmd = [sys.executable, "-m", "scrapewash.cli", "eval", str(raw), "--gold", str(gold), "--out", str(out),
           "--json", str(result)]
    if config:
        cmd += ["--config", config]
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(cmd, check=True, capture_output=True)
    return json.loads(result.read_text())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "quality"))
    ap.add_argument("--references", action="store_true",
                    help="also clean eight other extractors' outputs of the scrapinghub-aeb pages")
    args = ap.parse_args()
    if not EVALDATA.exists():
        print(f"needs {EVALDATA}", file=sys.stderr)
        return 2
    rows = []
    titles = []
    for name, variant in SETS:
        r = evaluate(EVALDATA / name / f"{variant}.jsonl.gz", EVALDATA / name / "gold.jsonl.gz",
                     Path(args.out) / f"{name}-{variant}", args.config)
        rows.append((name, variant, r["documents"], r["doing_nothing"], r["cleaned"]))
        if r.get("titles"):
            titles.append((name, variant, r["titles"]))
    if args.references:
        for system in REFERENCES:
            raw = reference_input(system, Path(args.out) / "reference-inputs")
            r = evaluate(raw, EVALDATA / "scrapinghub-aeb" / "gold.jsonl.gz",
                         Path(args.out) / f"scrapinghub-aeb-{system}", args.config)
            rows.append(("scrapinghub-aeb", system, r["documents"], r["doing_nothing"], r["cleaned"]))
    print("| set | docs | doing nothing P / R / F1 | scrapewash P / R / F1 |")
    print("|---|---:|---|---|")
    for name, variant, n, b, c in rows:
        print(f"| {name} `{variant}` | {n} | {b['precision']:.3f} / {b['recall']:.3f} / **{b['f1']:.3f}** "
              f"| {c['precision']:.3f} / {c['recall']:.3f} / **{c['f1']:.3f}** |")
    if titles:
        print()
        print("| set | pages with a gold title | got a title | the gold's | the gold's with more words | another |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, variant, t in titles:
            print(f"| {name} `{variant}` | {t['gold_titles']} | {t['found']} | {t['exact']} | {t['gold_within']} "
                  f"| {t['unrelated']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
