"""The speed benchmark: one generated news corpus through scrapewash and through datatrove.

    pip install -e ".[bench]"
    python bench/run.py                          # 100 MB, 1 and 2 workers, datatrove alongside
    python bench/run.py --sizes 10 100 1000      # the scaling series
    python bench/run.py --sizes 10 --no-baseline --workers 1
    python bench/run.py --baseline-repeat 3      # datatrove after each of the 3 rounds: a steadier ratio

For each corpus size it reports, in one run:

* **stages** (one core, in this process, on the first ``--sample-mb`` MB of the corpus): MB/s and
  documents/s of each per-document stage — JSON parsing, encoding repair (the fast path next to
  plain ``ftfy.fix_text``, with the outputs compared), whitespace and paragraphs, rules, in-page
  repeats, the line model, MinHash signatures as the sign stage makes them (a batch's token
  hashes in one pass, its signatures in one compiled pass; next to datasketch's ``MinHash`` on the
  same shingles, compared) — so the slow stage is visible (each stage runs once on the first document
  before it is timed: a process's first call of compiled code loads it, a fixed cost of the start);
  and the whole cleaning of a document as the prepare stage does it (``Cleaner.clean``), on texts
  whose rule verdicts are not remembered;
* **end to end**: ``scrapewash run`` as a user runs it (a fresh process, its own temporary Prefect
  server), with ``--workers`` 1 (thread runner) and N (``--runner``: N worker processes on this
  machine, the default for more than one worker, or a local Dask cluster of N processes),
  ``--repeat`` times each, interleaved, the median run reported (this machine's speed varies by 10-20 %
  from one minute to the next): wall
  time, the flow's own duration, seconds per stage (from the run summary), MB/s and documents/s,
  peak memory of the whole process tree (RSS every 50 ms, PSS every 0.5 s), and the CPU seconds
  of its processes by role (the command, Prefect's API server, the worker processes);
* **baseline**: the same corpus through datatrove's equivalent pipeline
  (``bench/baseline_datatrove.py``), and the ratio; ``--baseline-repeat`` N runs it N times, each
  right after one round of scrapewash's runs, and reports the median run and the median of the
  rounds' ratios (a pair is run minutes apart, so a slow spell weighs on both sides of its ratio).

* **real pages** (``--no-real-pages`` leaves them out): the whole cleaning of a document on the
  real scraped pages of ``../shared/evaldata`` (aeb's and wcxb's whole-page text dumps, and wcxb's
  extractor output), when it is there: their many short lines cost more per byte than the
  generated news.

Results go to ``--json`` (default ``bench/results/speed.json``) and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def corpus(size_mb: float, root: Path, seed: int = 0) -> tuple[Path, dict]:
    """The generated corpus of ``size_mb`` MB (made once, then reused)."""
    path = root / f"news-{size_mb:g}mb-seed{seed}"
    info_path = path / "_corpus.json"
    if info_path.exists():
        return path, json.loads(info_path.read_text())
    if path.exists():
        shutil.rmtree(path)
    info = generate.generate(path, size_mb, seed=seed)
    info_path.write_text(json.dumps(info))
    return path, info


def _records(path: Path, sample_mb: float) -> list[dict]:
    out, total = [], 0
    for f in sorted(path.glob("*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                out.append(line)
                total += len(line.encode("utf-8"))
                if total >= sample_mb * 1e6:
                    return out
    return out


def stage_micro(path: Path, sample_mb: float) -> dict[str, Any]:
    """Per-document stages, one core, on the first ``sample_mb`` MB of the corpus."""
    import ftfy
    import numpy as np

    from scrapewash.config import Config
    from scrapewash.tasks import boilerplate, content, encoding, minhash, repeats

    cfg = Config()
    lines = _records(path, sample_mb)
    mb = sum(len(x.encode("utf-8")) for x in lines) / 1e6
    n = len(lines)
    res: dict[str, Any] = {"sample_mb": round(mb, 2), "documents": n}

    def timed(name: str, fn, items, baseline: str | None = None):  # type: ignore[no-untyped-def]
        if items:  # once before the clock: a process's first call loads compiled code (numba's cache)
            fn(items[0])
        gc.collect()
        t = time.perf_counter()
        out = [fn(x) for x in items]
        s = time.perf_counter() - t
        res[name] = {"seconds": round(s, 3), "mb_per_s": round(mb / s, 1), "docs_per_s": round(n / s, 1)}
        if baseline:
            res[name]["baseline"] = baseline
        return out

    recs = timed("read: JSON parse", json.loads, lines)
    texts = [r["text"] for r in recs]
    fcfg = encoding.ftfy_config(cfg.encoding)
    fixed = timed("encoding: ftfy fast path", lambda t: encoding.ftfy_fix(t, fcfg)[0], texts)
    plain = timed("encoding: ftfy.fix_text (baseline)", lambda t: ftfy.fix_text(t, fcfg._replace(explain=False)),
                  texts)
    res["encoding: ftfy fast path"]["identical_to_ftfy"] = fixed == plain
    res["encoding: ftfy fast path"]["share_skipped"] = round(
        sum(encoding.ftfy_would_keep(t, fcfg) for t in texts) / max(n, 1), 3)
    # The same, on the pages ftfy leaves as they are (typical news text) and on those it repairs
    # (mojibake, entities, control characters), each part's throughput on its own bytes.
    for label, part in (("pages with nothing to repair", [t for t, f in zip(texts, plain, strict=True) if f == t]),
                        ("pages ftfy repairs", [t for t, f in zip(texts, plain, strict=True) if f != t])):
        if part:
            part_mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in part) / 1e6
            gc.collect()
            t0 = time.perf_counter()
            for t in part:
                encoding.ftfy_fix(t, fcfg)
            s = time.perf_counter() - t0
            res[f"encoding: ftfy fast path, {label}"] = {
                "seconds": round(s, 3), "mb_per_s": round(part_mb / s, 1), "docs_per_s": round(len(part) / s, 1),
                "documents": len(part), "sample_mb": round(part_mb, 2)}
    ws = timed("encoding: whitespace", lambda t: encoding.normalize_whitespace(t)[0], fixed)
    split = timed("paragraphs", encoding.split_blocks, ws)
    rules = boilerplate.load_rules()
    ruled = timed("rules", lambda pb: rules.apply("d", pb[0]), split)
    r = cfg.repeats
    rep = timed("in-page repeats", lambda c: repeats.remove_repeats(
        "d", c[0], r.near, r.near_threshold, r.near_min_words, r.min_words, r.scope, r.min_block), ruled)
    model = content.load_model(cfg.content.model)
    thr = model.default_threshold
    c = cfg.content
    items = list(zip(rep, (b for _, b in split), strict=True))
    judged = timed("line model", lambda cb: content.judge("d", cb[0][0], model, thr, c.protect_words, c.keep_headline,
                                                          cb[1], c.keep_lead_in, c.keep_list_items), items)
    kept = ["\n\n".join(p for p in cur if p is not None) for cur, _ in judged]
    # Signatures as the sign stage makes them: the token hashes of a batch of texts in one pass
    # (``texts_token_hashes``), then every signature of the batch in one compiled pass
    # (``set_signatures``: shingles hashed and permuted as they are made).
    d = cfg.dedup
    perms = minhash.permutations(d.num_perm, d.seed)
    batch = 2048  # the sign stage's batch of documents
    batches = [kept[i:i + batch] for i in range(0, len(kept), batch)]
    if kept:  # once before the clock (compiled code loads on first call)
        minhash.set_signatures(*minhash.texts_token_hashes(kept[:1]), d.shingle_words, perms)
    gc.collect()
    t = time.perf_counter()
    hashed = [minhash.texts_token_hashes(b) for b in batches]
    s_tok = time.perf_counter() - t
    t = time.perf_counter()
    sigs_parts = [minhash.set_signatures(th, off, d.shingle_words, perms) for th, off in hashed]
    s_sig = time.perf_counter() - t
    sigs = np.concatenate(sigs_parts) if sigs_parts else np.zeros((0, d.num_perm), dtype=np.uint32)
    for name, s in (("signatures: tokens and shingles", s_tok), ("signatures: MinHash (vectorised)", s_sig)):
        res[name] = {"seconds": round(s, 3), "mb_per_s": round(mb / s, 1), "docs_per_s": round(n / s, 1)}
    # datasketch on the same shingles, on a part (it is slow), checked bit for bit
    from datasketch import MinHash
    k = max(1, min(n, 300))
    toks = [minhash.tokens(t) for t in kept[:k]]
    part_mb = sum(len(lines[i].encode("utf-8")) for i in range(k)) / 1e6
    t = time.perf_counter()
    ds = []
    for toks_i in toks:
        m = MinHash(num_perm=d.num_perm, seed=d.seed, hashfunc=minhash.shingle_hash32, scheme="affine32")
        m.update_batch(minhash.shingles(toks_i, d.shingle_words))
        ds.append(m.hashvalues)
    s = time.perf_counter() - t
    res["signatures: datasketch MinHash (baseline)"] = {
        "seconds": round(s, 3), "mb_per_s": round(part_mb / s, 1), "docs_per_s": round(k / s, 1),
        "documents": k}
    # An empty text's signature is all-max, as datasketch's empty MinHash.
    res["signatures: MinHash (vectorised)"]["identical_to_datasketch"] = bool(
        all(np.array_equal(np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))
            for a, b in zip(ds, sigs[:k], strict=True)))
    sig_s = res["signatures: tokens and shingles"]["seconds"] + res["signatures: MinHash (vectorised)"]["seconds"]
    res["signatures: all"] = {"seconds": round(sig_s, 3), "mb_per_s": round(mb / sig_s, 1),
                              "docs_per_s": round(n / sig_s, 1)}
    per_doc = [k_ for k_ in res if k_ in ("encoding: ftfy fast path", "encoding: whitespace", "paragraphs", "rules",
                                          "in-page repeats", "line model", "signatures: tokens and shingles",
                                          "signatures: MinHash (vectorised)", "read: JSON parse")]
    total = sum(res[k_]["seconds"] for k_ in per_doc)
    res["all per-document stages"] = {"seconds": round(total, 3), "mb_per_s": round(mb / total, 1),
                                      "docs_per_s": round(n / total, 1)}
    # The prepare stage's cleaning of a document as a run does it (``Cleaner.clean``: the stages above
    # up to the line model, plus the template forms, the repeats' keys and the title column), on
    # texts it has not seen: the rule verdicts the "rules" row remembered are forgotten first.
    from scrapewash.records import RawDocument
    from scrapewash.tasks.clean import Cleaner

    rules.forget()
    cleaner = Cleaner(cfg)
    raws = [RawDocument(str(i), r_["text"], "bench", "bench", i, url=r_.get("url")) for i, r_ in enumerate(recs)]
    timed("cleaning: a whole document as prepare cleans it (Cleaner.clean)", cleaner.clean, raws)
    return res


EVALDATA = HERE.parent.parent / "shared" / "evaldata"
REAL_PAGES = ("scrapinghub-aeb/dump", "wcxb-dev/dump", "wcxb-dev/recall")


def real_pages(evaldata: Path = EVALDATA, sets: tuple[str, ...] = REAL_PAGES) -> dict[str, Any]:
    """The whole cleaning of a document (``Cleaner.clean``, one core, in this process) on real
    scraped pages: whole-page text dumps and an extractor's output (``../shared/evaldata``), whose
    many short lines cost more per byte than the generated news. Each set's rule verdicts are
    forgotten before it is timed. Empty when the data is not there."""
    from scrapewash.config import Config
    from scrapewash.evaluate import read_jsonl
    from scrapewash.records import RawDocument
    from scrapewash.tasks.clean import Cleaner

    out: dict[str, Any] = {}
    cleaner = None
    for name in sets:
        path = evaldata / f"{name}.jsonl.gz"
        if not path.exists():
            continue
        if cleaner is None:
            cleaner = Cleaner(Config())
            cleaner.clean(RawDocument("warm", "Compiled code loads on the first call.", "bench", "bench", 0))
        raws = [RawDocument(str(i), r["text"], "bench", "bench", i, url=r.get("url"))
                for i, r in enumerate(read_jsonl(path)) if isinstance(r.get("text"), str)]
        mb = sum(len(r.text.encode("utf-8", "surrogatepass")) for r in raws) / 1e6
        lines = sum(r.text.count("\n") + 1 for r in raws)
        if cleaner.rules is not None:
            cleaner.rules.forget()
        gc.collect()
        t = time.perf_counter()
        for r in raws:
            cleaner.clean(r)
        sec = time.perf_counter() - t
        out[name] = {"documents": len(raws), "mb": round(mb, 2), "lines": lines, "seconds": round(sec, 3),
                     "mb_per_s": round(mb / sec, 2), "docs_per_s": round(len(raws) / sec, 1)}
    return out


def _sample_tree(proc: subprocess.Popen) -> tuple[dict[str, float | None], int]:
    """Peak memory of ``proc``'s process tree while it runs (the baseline's sampler), and its exit code."""
    from baseline_datatrove import sample_tree_memory

    peak, code = sample_tree_memory(proc)
    peak = peak or {}
    return {"peak_rss_tree_mb": peak.get("rss"), "peak_pss_tree_mb": peak.get("pss"),
            "peak_rss_largest_process_mb": peak.get("largest"), "cpu_seconds_by_process": peak.get("cpu")}, code


def end_to_end(path: Path, info: dict, work: Path, workers: int, runner: str = "processes") -> dict[str, Any]:
    """``scrapewash run`` in a fresh process: 1 worker on threads, more on ``runner`` (``processes``
    or a local ``dask`` cluster)."""
    out = work / f"scrapewash-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    exe = shutil.which("scrapewash", path=os.path.dirname(sys.executable)) or "scrapewash"
    cmd = [exe, "run", str(path), "--out", str(out), "--workers", str(workers), "--json", "--reprocess"]
    runner = runner if workers > 1 else "threads"
    cmd += ["--runner", runner]
    env = dict(os.environ, PREFECT_LOGGING_LEVEL="WARNING")
    t = time.perf_counter()
    with open(work / f"scrapewash-w{workers}.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env, text=True)
        mem, _ = _sample_tree(proc)
        stdout = proc.stdout.read() if proc.stdout else ""
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"scrapewash run failed ({proc.returncode}); see {work}/scrapewash-w{workers}.log")
    summary = json.loads(stdout)
    mb = info["bytes"] / 1e6
    flow_s = summary["duration_s"]
    stages = summary.get("stage_seconds", {})
    res = {
        "workers": workers, "runner": runner, "wall_seconds": round(wall, 2),
        "flow_seconds": flow_s, "mb_per_s_wall": round(mb / wall, 2), "mb_per_s_flow": round(mb / flow_s, 2),
        "docs_per_s_flow": round(info["documents"] / flow_s, 1), "documents_in": summary["documents_in"],
        "documents_out": summary["documents_out"], "documents_removed": summary["documents_removed"],
        "stage_seconds": stages,
        "stage_mb_per_s": {k: round(mb / v, 1) if v else None for k, v in stages.items()},
        **mem,
    }
    shutil.rmtree(out, ignore_errors=True)
    return res


def _median(runs: list[dict[str, Any]], seconds: str, memory: tuple[str, ...]) -> dict[str, Any]:
    """The run with the median ``seconds``, with every run's ``seconds`` (as ``<seconds>_all``) and
    the highest of each ``memory`` peak (None where no run measured it)."""
    ordered = sorted(runs, key=lambda e: e[seconds])
    med = dict(ordered[len(ordered) // 2])
    med["runs"] = len(runs)
    med[f"{seconds}_all"] = [e[seconds] for e in runs]
    for k in memory:
        vals = [e[k] for e in runs if e.get(k) is not None]
        med[k] = max(vals) if vals else None
    return med


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Our run with the median flow time, with every run's flow time and the highest memory peaks."""
    return _median(runs, "flow_seconds", ("peak_rss_tree_mb", "peak_pss_tree_mb", "peak_rss_largest_process_mb"))


def _median_baseline(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The datatrove run with the median time, with every run's time and the highest memory peak."""
    return _median(runs, "total_seconds", ("peak_rss_mb",))


def paired_ratios(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> list[float]:
    """Throughput ratio of each round: scrapewash's one-worker flow against the datatrove run made
    right after it on the same corpus (rounds without a datatrove run have none). A pair is run
    minutes apart, so a slow spell of the machine weighs on both sides of its ratio."""
    return [b["total_seconds"] / e["flow_seconds"] for e, b in zip(ours, theirs, strict=False)]


def baseline(path: Path, work: Path, workers: int) -> dict[str, Any]:
    import baseline_datatrove

    res = baseline_datatrove.run_datatrove(path, work / f"datatrove-w{workers}", workers=workers)
    shutil.rmtree(work / f"datatrove-w{workers}", ignore_errors=True)
    return res


def _table(results: dict[str, Any]) -> str:
    rows = []
    for size, r in results["sizes"].items():
        rows.append(f"\n### {size} MB corpus ({r['corpus']['documents']} documents, "
                    f"{r['corpus']['copies']} syndicated copies)\n")
        if "stages" in r:
            rows.append("| stage (one core, in process) | MB/s | docs/s |\n|---|---:|---:|")
            for k, v in r["stages"].items():
                if isinstance(v, dict) and "mb_per_s" in v:
                    extra = ""
                    if "identical_to_ftfy" in v:
                        extra = f" (identical: {v['identical_to_ftfy']}, {v['share_skipped']:.0%} of pages skipped)"
                    if "identical_to_datasketch" in v:
                        extra = f" (identical: {v['identical_to_datasketch']})"
                    rows.append(f"| {k}{extra} | {v['mb_per_s']} | {v['docs_per_s']} |")
        rows.append("\n| end to end | workers | wall s | flow s | MB/s (flow) | MB/s (wall) | docs/s | peak RSS MB "
                    "(tree / largest process) | docs out |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for e in r.get("scrapewash", []):
            spread = ""
            if e.get("runs", 1) > 1:
                spread = f" (median of {e['runs']}: {', '.join(f'{x:g}' for x in sorted(e['flow_seconds_all']))})"
            rows.append(f"| scrapewash | {e['workers']} ({e.get('runner', '')}) | {e['wall_seconds']} | {e['flow_seconds']}{spread} | "
                        f"{e['mb_per_s_flow']} | {e['mb_per_s_wall']} | {e['docs_per_s_flow']} | "
                        f"{e['peak_rss_tree_mb']} / {e['peak_rss_largest_process_mb']} | {e['documents_out']} |")
        for b in r.get("datatrove", []):
            spread = ""
            if b.get("runs", 1) > 1:
                spread = f" (median of {b['runs']}: {', '.join(f'{x:.2f}' for x in sorted(b['total_seconds_all']))})"
            rows.append(f"| datatrove {b.get('datatrove_version', '')} | {b['workers']} | {b['total_seconds']:.2f} | "
                        f"{b['total_seconds']:.2f}{spread} | {b['mb_per_s']:.2f} | {b['mb_per_s']:.2f} | {b['docs_per_s']:.1f} | "
                        f"{b['peak_rss_mb']} | {b['docs_out']} |")
        for k, v in r.get("ratios", {}).items():
            rows.append(f"\n{k}: **{v}**")
        for e in r.get("scrapewash", []):
            rows.append(f"\nseconds by stage, {e['workers']} worker(s): "
                        + ", ".join(f"{k} {v:g}" for k, v in e["stage_seconds"].items()))
            if e.get("cpu_seconds_by_process"):
                rows.append(f"\nCPU seconds by process, {e['workers']} worker(s), whole command (median run): "
                            + ", ".join(f"{k} {v:g}" for k, v in sorted(e["cpu_seconds_by_process"].items())))
    if results.get("real_pages"):
        rows.append("\n### Cleaning real pages (`Cleaner.clean`, one core, in process)\n")
        rows.append("| pages | documents | MB | lines | s | MB/s | docs/s |\n|---|---:|---:|---:|---:|---:|---:|")
        for name, v in results["real_pages"].items():
            rows.append(f"| {name} | {v['documents']} | {v['mb']} | {v['lines']} | {v['seconds']} | "
                        f"{v['mb_per_s']} | {v['docs_per_s']} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="scrapewash speed benchmark (see the module docstring)")
    ap.add_argument("--sizes", type=float, nargs="+", default=[100.0], help="corpus sizes in MB")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runner", choices=("processes", "dask"), default="processes",
                    help="task runner for more than one worker")
    ap.add_argument("--corpus-dir", type=Path, default=Path(tempfile.gettempdir()) / "scrapewash-bench")
    ap.add_argument("--sample-mb", type=float, default=20.0, help="corpus share timed stage by stage")
    ap.add_argument("--no-baseline", action="store_true", help="leave datatrove out")
    ap.add_argument("--no-stages", action="store_true", help="leave the stage-by-stage timing out")
    ap.add_argument("--no-real-pages", action="store_true",
                    help="leave out the cleaning of the real pages of ../shared/evaldata")
    ap.add_argument("--repeat", type=int, default=3,
                    help="end-to-end runs per worker count (the median is reported; this machine's speed varies)")
    ap.add_argument("--baseline-repeat", type=int, default=1,
                    help="datatrove runs, each right after one round of scrapewash runs (the median is "
                         "reported, and the median of each round's ratio)")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "speed.json")
    a = ap.parse_args(argv)
    results: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                           "platform": platform.platform()},
                               "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "sizes": {}}
    a.corpus_dir.mkdir(parents=True, exist_ok=True)
    for size in a.sizes:
        path, info = corpus(size, a.corpus_dir)
        r: dict[str, Any] = {"corpus": {k: v for k, v in info.items() if k != "files"} | {"files": len(info["files"])}}
        print(f"# {size:g} MB: {info['documents']} documents in {len(info['files'])} files at {path}", file=sys.stderr)
        if not a.no_stages:
            r["stages"] = stage_micro(path, min(a.sample_mb, size))
        work = Path(tempfile.mkdtemp(prefix="scrapewash-bench-"))
        try:
            runs: dict[int, list[dict[str, Any]]] = {w: [] for w in a.workers}
            base_runs: list[dict[str, Any]] = []
            n_base = 0 if a.no_baseline else max(a.baseline_repeat, 1)
            for k in range(max(a.repeat, n_base)):  # interleaved, so that a slow spell hits every setting
                if k < a.repeat:
                    for w in a.workers:
                        runs[w].append(end_to_end(path, info, work, w, a.runner))
                if k < n_base:  # right after this round's runs
                    base_runs.append(baseline(path, work, 1))
            r["scrapewash"] = [_median_run(runs[w]) for w in a.workers]
            if base_runs:
                r["datatrove"] = [_median_baseline(base_runs)]
        finally:
            shutil.rmtree(work, ignore_errors=True)
        one = next((e for e in r["scrapewash"] if e["workers"] == 1), None)
        ratios = {}
        if one and r.get("datatrove"):
            b = r["datatrove"][0]
            ratios["scrapewash (1 worker, flow) / datatrove (1 worker) throughput"] = round(
                one["mb_per_s_flow"] / b["mb_per_s"], 1)
            ratios["scrapewash (1 worker, wall incl. Prefect start) / datatrove throughput"] = round(
                one["mb_per_s_wall"] / b["mb_per_s"], 1)
            pairs = paired_ratios(runs[1], base_runs)
            ratios[f"scrapewash (1 worker, flow) / datatrove run right after it, median of {len(pairs)} rounds"] = \
                round(statistics.median(pairs), 1)
            b["round_ratios"] = [round(x, 1) for x in pairs]
        for e in r["scrapewash"]:
            if one and e["workers"] > 1:
                ratios[f"{e['workers']} workers / 1 worker (flow)"] = round(e["mb_per_s_flow"] / one["mb_per_s_flow"], 2)
                # Each round runs one worker and then more back to back: the ratio within a round is
                # less exposed to the machine's slow spells than the ratio of medians.
                pairs = [x["flow_seconds"] / y["flow_seconds"] for x, y in zip(runs[1], runs[e["workers"]], strict=True)]
                ratios[f"{e['workers']} workers / 1 worker (flow), median of {len(pairs)} rounds"] = round(
                    statistics.median(pairs), 2)
                e["round_ratios"] = [round(x, 2) for x in pairs]
        r["ratios"] = ratios
        results["sizes"][f"{size:g}"] = r
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(results, indent=2))
    if not a.no_real_pages:
        results["real_pages"] = real_pages()
        a.json.write_text(json.dumps(results, indent=2))
    print(_table(results))
    print(f"\n(results in {a.json})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
