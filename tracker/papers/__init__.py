"""arXiv papers: fetching (API, feeds, id lookups), storing one item per paper, ranking the inbox."""
