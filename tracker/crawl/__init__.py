"""The crawler: polite async fetching (`fetcher`), one extractor per site (`sites/`), storage (`run`)."""
