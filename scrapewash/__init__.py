"""scrapewash: raw scraped article text in, clean deduplicated Parquet out."""

__version__ = "0.1.0"
