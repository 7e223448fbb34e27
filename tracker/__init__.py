"""tracker: a reading-list tracker and arXiv paper aggregator for a curated study outline."""

__version__ = "0.1.0"
