"""GitHub repositories, read through the REST API (`GET /repos/{owner}/{repo}`) rather than HTML."""

from __future__ import annotations

import json
import re

from tracker.config import Endpoints
from tracker.crawl.sites import ApiCall, Extracted, Page

NAME = "github"
_REPO = re.compile(r"^https?://(?:www\.)?github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?(?:/.*)?(?:[?#].*)?$", re.I)
# First path parts that are GitHub's own pages, not users.
_RESERVED = {"about", "features", "topics", "collections", "trending", "orgs", "settings", "marketplace",
             "explore", "sponsors", "login", "join", "search", "pricing", "enterprise", "apps", "notifications"}


def _repo(url: str) -> tuple[str, str] | None:
    match = _REPO.match(url)
    if not match or match.group(1).lower() in _RESERVED:
        return None
    return match.group(1), match.group(2)


def matches(url: str) -> bool:
    """github.com/<owner>/<repo> and any page inside a repository."""
    return _repo(url) is not None


def api_call(url: str, endpoints: Endpoints) -> ApiCall | None:
    """The REST request for a repository URL, authenticated when GITHUB_TOKEN is set."""
    repo = _repo(url)
    if repo is None:
        return None
    headers = [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]
    if endpoints.github_token:
        headers.append(("Authorization", f"Bearer {endpoints.github_token}"))
    return ApiCall(url=f"{endpoints.github_api}/repos/{repo[0]}/{repo[1]}", headers=tuple(headers))


def extract(page: Page) -> Extracted:
    """Description, stars, topics, language, archived and last push from the repository JSON."""
    try:
        data: object = json.loads(page.body.decode("utf-8", "replace") or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict) or "full_name" not in data:
        message = data.get("message") if isinstance(data, dict) else None
        return Extracted(title=None, meta={"api_message": message} if message else {}, text="")
    found = data.get("license")
    license_: dict[str, object] = found if isinstance(found, dict) else {}
    topics = data.get("topics") or []
    meta = {k: v for k, v in {
        "kind": "repo", "full_name": data.get("full_name"), "description": data.get("description"),
        "stars": data.get("stargazers_count"), "forks": data.get("forks_count"),
        "topics": topics, "language": data.get("language"), "archived": data.get("archived"),
        "pushed_at": data.get("pushed_at"), "html_url": data.get("html_url"), "license": license_.get("spdx_id"),
    }.items() if v is not None}
    description = data.get("description")
    title = f"{data['full_name']}: {description}" if description else str(data["full_name"])
    return Extracted(title=title, meta=meta, text=" ".join([str(description or ""), " ".join(topics)]).strip())
