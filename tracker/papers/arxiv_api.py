"""The arXiv API: a topic's query page by page back to a window's start, and id-list lookups.

The `arxiv` package defines the query (its `Search` with sort criteria, and the URL its client
would request); httpx sends it (see `http.py` for why) and lxml reads the answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tracker.papers import http
from tracker.papers.atom import AtomError, Page, parse_page
from tracker.papers.limiter import Limiter
from tracker.papers.records import PaperRecord

if TYPE_CHECKING:
    import httpx

Batch = tuple[list[PaperRecord], str | None]


def query_params(query: str | None, id_list: Sequence[str], start: int, page_size: int) -> dict[str, str]:
    """The API's parameters for one page, newest submissions first.

    The search itself is the `arxiv` package's `Search` (its query, id list and sort words); the
    parameter names are those of arXiv's API manual, written here because the package forms its
    URLs only inside its own client, which sends them without a timeout.
    """
    import arxiv

    search = arxiv.Search(query=query or "", id_list=list(id_list), sort_by=arxiv.SortCriterion.SubmittedDate,
                          sort_order=arxiv.SortOrder.Descending)
    return {"search_query": search.query, "id_list": ",".join(search.id_list), "sortBy": search.sort_by.value,
            "sortOrder": search.sort_order.value, "start": str(start), "max_results": str(page_size)}


def _page(client: httpx.Client, endpoint: str, params: dict[str, str], limiter: Limiter, deadline: float,
          retries: int) -> Page:
    """One page, with arXiv's own failure modes retried: empty pages mid-result and error entries."""
    problem = "no attempt"
    for _ in range(retries + 1):
        body = http.get(client, endpoint, params, limiter, deadline, retries)
        try:
            page = parse_page(body.content)
        except AtomError as exc:
            problem = str(exc)
            continue
        start = int(params.get("start", "0"))
        if page.entries == 0 and page.total is not None and start < page.total:
            # arXiv sometimes answers a page in the middle of a result with nothing; asking again works.
            problem = f"empty page at {start} of {page.total}"
            continue
        return page
    raise http.FetchFailed(problem)


def iter_search(query: str, since: datetime, *, endpoint: str, limiter: Limiter, page_size: int = 200,
                max_results: int | None = None, deadline: float = 60.0, retries: int = 3) -> Iterator[Batch]:
    """Pages of records for `query`, newest first, until one is older than `since` (naive UTC).

    Yields (records of the page, None), and finally ([], error) if a page failed for good, so the
    caller can store each page as it comes and still learn that the window was not covered.
    `http.Stop` (arXiv unreachable, the run's deadline passed) is raised: it ends the whole run.
    """
    start, sent = 0, 0
    with http.client() as client:
        while True:
            size = page_size if max_results is None else min(page_size, max_results - sent)
            try:
                page = _page(client, endpoint, query_params(query, (), start, size), limiter, deadline, retries)
            except http.Stop:
                raise
            except http.FetchFailed as exc:
                yield [], str(exc)
                return
            fresh = [r for r in page.records if r.published is None or r.published >= since]
            if max_results is not None:
                fresh = fresh[: max_results - sent]
            sent += len(fresh)
            if fresh:
                yield fresh, None
            older = len(fresh) < len(page.records)
            start += page.entries
            if older or page.entries == 0 or (page.total is not None and start >= page.total) or (
                    max_results is not None and sent >= max_results):
                return


def search(query: str, since: datetime, *, endpoint: str, limiter: Limiter, page_size: int = 200,
           max_results: int | None = None, deadline: float = 60.0,
           retries: int = 3) -> tuple[list[PaperRecord], str | None]:
    """Every record of `query` back to `since`, and the error that cut it short, if any."""
    records: list[PaperRecord] = []
    error = None
    for batch, problem in iter_search(query, since, endpoint=endpoint, limiter=limiter, page_size=page_size,
                                      max_results=max_results, deadline=deadline, retries=retries):
        records.extend(batch)
        error = problem or error
    return records, error


def lookup(ids: Sequence[str], *, endpoint: str, limiter: Limiter, batch: int = 100, deadline: float = 60.0,
           retries: int = 3) -> tuple[list[PaperRecord], list[str]]:
    """Records for arXiv ids, `batch` ids a request; (records, one error line per failed batch); `http.Stop` raised."""
    records: list[PaperRecord] = []
    errors: list[str] = []
    with http.client() as client:
        for start in range(0, len(ids), batch):
            chunk = list(ids[start:start + batch])
            try:
                page = _page(client, endpoint, query_params(None, chunk, 0, len(chunk)), limiter, deadline, retries)
            except http.Stop:
                raise
            except http.FetchFailed as exc:
                errors.append(f"ids {chunk[0]}…: {exc}" if len(chunk) > 1 else f"id {chunk[0]}: {exc}")
                continue
            records.extend(page.records)
    return records, errors
