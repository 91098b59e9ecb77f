"""scrapewash: raw scraped article text in, clean deduplicated Parquet out."""

import os as _os

# scrapewash runs where the network may be closed; Prefect's server telemetry then only logs
# errors. Opt back in by setting the variable yourself.
_os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

__version__ = "0.1.0"
