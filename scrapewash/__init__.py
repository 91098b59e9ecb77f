"""scrapewash: raw scraped article text in, clean deduplicated Parquet out."""

import os as _os

# The stage packages live at the top of the source tree (flows/, tasks/, schemas/) and are
# installed as scrapewash.flows, scrapewash.tasks and scrapewash.schemas. When this package is
# imported straight from a checkout (python -m from the project root), find them there.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if not _os.path.isdir(_os.path.join(_os.path.dirname(__file__), "flows")) and _os.path.isfile(
    _os.path.join(_root, "flows", "clean_corpus.py")
):
    __path__.append(_root)  # type: ignore[name-defined]  # noqa: F821

# scrapewash runs where the network may be closed; Prefect's server telemetry then only logs
# errors. Opt back in by setting the variable yourself.
_os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

__version__ = "0.1.0"
