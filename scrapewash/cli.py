"""Command line: ``scrapewash run INPUT... --out DIR [--config FILE]``, ``scrapewash serve ...``.

Exit codes of ``run``: 0 — committed (or nothing new to clean), nothing
quarantined; 3 — committed, but some inputs were quarantined (see
``OUT/quarantine/``); 1 — the run failed and nothing was committed; 2 — bad
command line or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Without PREFECT_API_URL a run starts a temporary local API; on a busy machine it can take longer
# than Prefect's default 20 s to come up.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

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
    r.add_argument("--workers", type=int, metavar="N",
                   help="shard tasks run at once, each on its own core with the default runner (default: config, 2)")
    r.add_argument("--reprocess", action="store_true",
                   help="read inputs again that earlier runs of DIR read (by default they are skipped); runs all of "
                        "whose inputs are read again are superseded (moved to DIR/_superseded/)")
    r.add_argument("--settle-seconds", type=float, default=0, metavar="S",
                   help="leave files modified less than S seconds ago for a later run (default 0)")
    _runner_args(r)
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    s = sub.add_parser("serve", help="serve a scheduled clean-corpus deployment on the Prefect server "
                                     "(PREFECT_API_URL); each run cleans the input that arrived since the last")
    s.add_argument("--input", dest="inputs", action="append", required=True, metavar="DIR_OR_GLOB",
                   help="landing folder, file or glob pattern (quote it); repeat for several")
    s.add_argument("--out", required=True, metavar="DIR", help="output root")
    s.add_argument("--cron", required=True, metavar="CRON", help='schedule, e.g. "0 * * * *" for hourly')
    s.add_argument("--timezone", default="UTC", metavar="TZ", help="time zone of the cron schedule (default UTC)")
    s.add_argument("--name", default="scheduled", help="deployment name (default: scheduled); the deployment "
                                                        "is clean-corpus/NAME")
    s.add_argument("--config", metavar="FILE", help="TOML or JSON configuration file")
    s.add_argument("--workers", type=int, metavar="N", help="shard tasks run at once (default: config, 2)")
    s.add_argument("--settle-seconds", type=float, default=60, metavar="S",
                   help="leave files modified less than S seconds ago for the next run (default 60)")
    _runner_args(s)
    e = sub.add_parser("eval", help="clean a raw JSONL and score the kept text against gold (word 4-gram F1)")
    e.add_argument("raw", metavar="RAW", help="raw JSONL (id, text)")
    e.add_argument("--gold", required=True, metavar="GOLD", help="gold JSONL (id, gold)")
    e.add_argument("--out", required=True, metavar="DIR", help="output root for the cleaning run")
    e.add_argument("--config", metavar="FILE", help="TOML or JSON configuration file")
    e.add_argument("--json", metavar="FILE", help="also write the scores (and the worst pages) as JSON to FILE")
    e.add_argument("--report", type=int, default=10, metavar="N",
                   help="print the N pages where cleaning lost most, with the lines lost and left (default 10)")
    c = sub.add_parser("config", help="print the default configuration as JSON (with descriptions: --schema)")
    c.add_argument("--schema", action="store_true", help="print the JSON schema with field descriptions")
    return p


def _runner_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runner", choices=("auto", "threads", "processes", "dask"), default="auto",
                   help="where shard tasks run: a thread pool, a pool of worker processes on this machine, "
                        "or Dask (default: auto: worker processes for more than one worker, the run's own "
                        "thread for one, Dask with --dask-address)")
    p.add_argument("--dask-address", metavar="tcp://HOST:PORT",
                   help="scheduler of an existing Dask cluster (with --runner dask; default: a local cluster)")


def format_summary(counts: dict[str, Any]) -> str:
    from scrapewash.flows.clean_corpus import summary_rows

    if not counts.get("committed", True):
        return f"run {counts['run_id']}: no new input to clean; nothing was committed to {counts['output']}"
    lines = [f"run {counts['run_id']} committed to {counts['output']}"]
    lines += [f"  {label:<40} {value}" for label, value in summary_rows(counts)]
    if counts["rules"]:
        lines.append("  top rules:")
        lines += [f"    {n:>6}  {r}" for r, n in list(counts["rules"].items())[:10]]
    return "\n".join(lines)


def _load_config(args: argparse.Namespace):
    """The configuration file with the command line's --workers applied (raises on bad input)."""
    from scrapewash.config import Config

    config = Config.load(args.config)
    if args.workers is not None:
        config = config.model_copy(update={"workers": args.workers})
    return Config.model_validate(config.model_dump())


def _config_and_output(args: argparse.Namespace) -> tuple[Any, int]:
    """The configuration, after checking that the output root is usable: (config, 0) or (None, exit code)."""
    from pydantic import ValidationError

    from scrapewash.tasks.write import OutputError, check_output_root

    try:
        config = _load_config(args)
    except (OSError, ValueError, ValidationError) as e:
        print(f"scrapewash: bad configuration: {e}", file=sys.stderr)
        return None, EXIT_USAGE
    try:
        check_output_root(args.out)
    except OutputError as e:
        print(f"scrapewash: {e}", file=sys.stderr)
        return None, EXIT_FAILED
    return config, EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from scrapewash import early_server

    early = early_server.start()  # comes up while the pipeline loads (see early_server)
    from pydantic import ValidationError

    from scrapewash.config import RunParameters
    from scrapewash.flows.runners import RunnerError, make_task_runner
    from scrapewash.tasks.boilerplate import RuleError
    from scrapewash.tasks.read import InputError, expand_input
    from scrapewash.tasks.write import OutputError

    missing = [i for i in args.inputs if not expand_input(i) or not os.path.lexists(expand_input(i)[0])]
    if missing:
        print(f"scrapewash: input not found: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    config, code = _config_and_output(args)
    if config is None:
        return code
    try:
        params = RunParameters(inputs=list(args.inputs), out=args.out, config=config, reprocess=args.reprocess,
                               settle_seconds=args.settle_seconds)
        runner = make_task_runner(args.runner, config.workers, args.dask_address)
    except (RunnerError, ValidationError) as e:
        print(f"scrapewash: {e}", file=sys.stderr)
        return EXIT_USAGE

    try:
        counts = _run_params(params, runner, early)
    except (InputError, RuleError, OutputError) as e:
        print(f"scrapewash: {e}", file=sys.stderr)
        return EXIT_USAGE if not isinstance(e, OutputError) else EXIT_FAILED
    except Exception as e:  # noqa: BLE001 - the flow run is Failed; say why and exit non-zero
        print(f"scrapewash: run failed, nothing was committed: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(counts, indent=2) if args.json else format_summary(counts))
    return EXIT_QUARANTINE if counts["quarantined"] else EXIT_OK


def _run_params(params, runner=None, early=None) -> dict[str, Any]:
    from scrapewash import early_server
    from scrapewash.flows.clean_corpus import clean_corpus
    from scrapewash.flows.runners import freeze_heap, make_task_runner, start_workers_early

    runner = runner or make_task_runner("auto", params.config.workers)
    if early is not None:  # the temporary server is still coming up: get the workers ready meanwhile
        start_workers_early(runner, params.config)
    early_server.adopt(early)
    freeze_heap()  # this process's own: the flow run's shard tasks run here with the threads runner
    return clean_corpus.with_options(task_runner=runner)(params=params)


def cmd_serve(args: argparse.Namespace) -> int:
    """Register the scheduled deployment clean-corpus/NAME and serve its runs until interrupted."""
    from pydantic import ValidationError

    from scrapewash.flows.deploy import DeploymentError, build_deployment
    from scrapewash.flows.runners import RunnerError

    config, code = _config_and_output(args)
    if config is None:
        return code
    try:
        deployment = build_deployment(
            inputs=[os.path.abspath(i) for i in args.inputs], out=os.path.abspath(args.out), config=config,
            cron=args.cron, timezone=args.timezone, name=args.name, runner=args.runner,
            dask_address=args.dask_address, settle_seconds=args.settle_seconds)
    except (DeploymentError, RunnerError, ValidationError) as e:
        print(f"scrapewash: {e}", file=sys.stderr)
        return EXIT_USAGE
    from prefect import serve

    serve(deployment)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from scrapewash import early_server

    early = early_server.start()
    from scrapewash.config import Config, RunParameters
    from scrapewash.evaluate import kept_texts, kept_titles, read_jsonl, score_run
    from scrapewash.tasks import encoding

    config = Config.load(args.config)
    # A score is of this input alone: read it even if an earlier run of OUT did (superseding that
    # run), and do not deduplicate against what other runs of OUT kept.
    config = config.model_copy(update={"dedup": config.dedup.model_copy(update={"across_runs": False})})
    counts = _run_params(RunParameters(inputs=[args.raw], out=args.out, config=config, reprocess=True), early=early)
    result = score_run(read_jsonl(args.raw), read_jsonl(args.gold), kept_texts(args.out, counts["run_id"]),
                       report=args.report, titles=kept_titles(args.out, counts["run_id"]),
                       repair=lambda text: encoding.repair(text, config.encoding)[0])
    result["run_id"] = counts["run_id"]
    print(format_eval(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2, ensure_ascii=False)
    return EXIT_OK


def format_eval(result: dict[str, Any]) -> str:
    def line(label: str, s: dict[str, float]) -> str:
        return f"{label:<24}{s['precision']:>10.4f}{s['recall']:>10.4f}{s['f1']:>10.4f}"

    out = [f"{'':<24}{'precision':>10}{'recall':>10}{'F1':>10}",
           line("doing nothing", result["doing_nothing"]), line("scrapewash", result["cleaned"])]
    for t, r in result.get("by_page_type", {}).items():
        out.append(line(f"  {t} ({r['documents']})", r["cleaned"]) + f"   (doing nothing {r['doing_nothing']['f1']:.4f})")
    sn = result.get("snippets")
    if sn:
        base = result["snippets_doing_nothing"]
        out.append(f"boilerplate snippets removed: {sn['without_removed']:.4f} of {sn['without_snippets']} "
                   f"(doing nothing {base['without_removed']:.4f}); content snippets kept: "
                   f"{sn['with_kept']:.4f} of {sn['with_snippets']}")
    ti = result.get("titles")
    if ti:
        out.append(f"titles: {ti['found']} of {ti['gold_titles']} pages with a gold title got one; "
                   f"{ti['exact']} the gold's, {ti['gold_within']} the gold's with more words, "
                   f"{ti['unrelated']} another")
    out.append(f"({result['documents']} documents, run {result.get('run_id')})")
    if result.get("worst_documents"):
        out.append("\npages where cleaning lost most (F1 doing nothing -> cleaned):")
        for d in result["worst_documents"]:
            out.append(f"  {d['id']}  {d['f1_doing_nothing']:.3f} -> {d['f1_cleaned']:.3f}  {d['url'] or ''}")
            for ln in d["removed_but_in_gold"][:3]:
                out.append(f"      lost: {ln[:110]}")
            for ln in d["kept_but_not_in_gold"][:3]:
                out.append(f"      left: {ln[:110]}")
    return "\n".join(out)


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
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "config":
        from scrapewash.config import Config

        data = Config.model_json_schema() if args.schema else Config().model_dump(mode="json")
        print(json.dumps(data, indent=2))
        return EXIT_OK
    _parser().print_help()
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
