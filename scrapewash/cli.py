"""Command line: ``scrapewash run INPUT... --out DIR [--config FILE]``.

Exit codes: 0 — committed, nothing quarantined; 3 — committed, but some inputs
were quarantined (see ``OUT/quarantine/``); 1 — the run failed and nothing was
committed; 2 — bad command line or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_QUARANTINE = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scrapewash", description="Clean raw scraped text into deduplicated Parquet.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("run", help="clean INPUT files/folders into DIR (Prefect flow clean-corpus)")
    r.add_argument("inputs", nargs="+", metavar="INPUT",
                   help=".txt files or folders of them, .jsonl[.gz|.zst], .csv[.gz|.zst], .parquet")
    r.add_argument("--out", default="output", metavar="DIR",
                   help="output root: documents/, removed/, quarantine/, _runs/ (default: output)")
    r.add_argument("--config", metavar="FILE", help="TOML or JSON configuration file")
    r.add_argument("--workers", type=int, metavar="N", help="shard tasks run at once (default: config, 2)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    e = sub.add_parser("eval", help="clean a raw JSONL and score the kept text against gold (word 4-gram F1)")
    e.add_argument("raw", metavar="RAW", help="raw JSONL (id, text)")
    e.add_argument("--gold", required=True, metavar="GOLD", help="gold JSONL (id, gold)")
    e.add_argument("--out", required=True, metavar="DIR", help="output root for the cleaning run")
    e.add_argument("--config", metavar="FILE", help="TOML or JSON configuration file")
    e.add_argument("--json", metavar="FILE", help="also write the scores as JSON to FILE")
    c = sub.add_parser("config", help="print the default configuration as JSON (with descriptions: --schema)")
    c.add_argument("--schema", action="store_true", help="print the JSON schema with field descriptions")
    return p


def format_summary(counts: dict[str, Any]) -> str:
    from scrapewash.flows.clean_corpus import summary_rows

    lines = [f"run {counts['run_id']} committed to {counts['output']}"]
    lines += [f"  {label:<40} {value}" for label, value in summary_rows(counts)]
    if counts["rules"]:
        lines.append("  top rules:")
        lines += [f"    {n:>6}  {r}" for r, n in list(counts["rules"].items())[:10]]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from scrapewash.config import Config
    from scrapewash.tasks.boilerplate import RuleError
    from scrapewash.tasks.read import InputError
    from scrapewash.tasks.write import OutputError, check_output_root

    try:
        config = Config.load(args.config)
        if args.workers is not None:
            config = config.model_copy(update={"workers": args.workers})
        Config.model_validate(config.model_dump())
    except (OSError, ValueError, ValidationError) as e:
        print(f"scrapewash: bad configuration: {e}", file=sys.stderr)
        return EXIT_USAGE
    missing = [i for i in args.inputs if not os.path.exists(i)]
    if missing:
        print(f"scrapewash: input not found: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_output_root(args.out)
    except OutputError as e:
        print(f"scrapewash: {e}", file=sys.stderr)
        return EXIT_FAILED

    try:
        counts = _run_flow(list(args.inputs), args.out, config)
    except (InputError, RuleError, OutputError) as e:
        print(f"scrapewash: {e}", file=sys.stderr)
        return EXIT_USAGE if not isinstance(e, OutputError) else EXIT_FAILED
    except Exception as e:  # noqa: BLE001 - the flow run is Failed; say why and exit non-zero
        print(f"scrapewash: run failed, nothing was committed: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(counts, indent=2) if args.json else format_summary(counts))
    return EXIT_QUARANTINE if counts["quarantined"] else EXIT_OK


def _run_flow(inputs: list[str], out: str, config):
    from prefect.task_runners import ThreadPoolTaskRunner

    from scrapewash.flows.clean_corpus import clean_corpus

    flow = clean_corpus.with_options(task_runner=ThreadPoolTaskRunner(max_workers=config.workers))
    return flow(inputs=inputs, out=out, config=config)


def cmd_eval(args: argparse.Namespace) -> int:
    from scrapewash.config import Config
    from scrapewash.evaluate import kept_texts, read_jsonl, score_run

    config = Config.load(args.config)
    counts = _run_flow([args.raw], args.out, config)
    raw = read_jsonl(args.raw)
    gold = {str(g["id"]): g["gold"] for g in read_jsonl(args.gold)}
    result = score_run(raw, gold, kept_texts(args.out, counts["run_id"]))
    result["run_id"] = counts["run_id"]
    b, c = result["doing_nothing"], result["cleaned"]
    print(f"{'':<14}{'precision':>10}{'recall':>10}{'F1':>10}")
    print(f"{'doing nothing':<14}{b['precision']:>10.4f}{b['recall']:>10.4f}{b['f1']:>10.4f}")
    print(f"{'scrapewash':<14}{c['precision']:>10.4f}{c['recall']:>10.4f}{c['f1']:>10.4f}")
    print(f"({result['documents']} documents, run {counts['run_id']})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from scrapewash import __version__

        print(__version__)
        return EXIT_OK
    if args.command == "run":
        return cmd_run(args)
    if args.command == "eval":
        return cmd_eval(args)
    if args.command == "config":
        from scrapewash.config import Config

        data = Config.model_json_schema() if args.schema else Config().model_dump(mode="json")
        print(json.dumps(data, indent=2))
        return EXIT_OK
    _parser().print_help()
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
