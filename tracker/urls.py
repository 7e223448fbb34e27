"""URL helpers: one canonical form per page, arXiv ids, and the contract kind of a link.

Pure and stdlib-only. `normalize_url` is what makes two links to one page one item, so it
is idempotent and never raises: whatever it cannot parse it returns trimmed, unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote_plus, urlsplit

# --- arXiv ---------------------------------------------------------------------------

# Archives that used old-style ids (`hep-th/9901001`); a bare `word/1234567` is only an
# arXiv id when the word is one of them.
OLD_ARCHIVES = frozenset({
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
    "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
    "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
    "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph", "solv-int", "supr-con",
})
_NEW_ID = r"(?P<yymm>\d{4})\.(?P<num>\d{4,5})(?:v\d+)?"
_OLD_ID = r"(?P<arch>[a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2})?/(?P<onum>\d{7})(?:v\d+)?"
_BARE_RE = re.compile(rf"(?:arxiv:\s*)?(?:{_NEW_ID}|{_OLD_ID})", re.IGNORECASE)
# Every link that names one paper: arXiv's pages and files on its hosts and mirrors (ar5iv,
# export., the old xxx.lanl.gov, alphaXiv), arxiv-vanity's rendering, and arXiv's DOIs. Whatever
# follows the id is ignored once a character that cannot continue it comes next (`.pdf&embed`,
# `?download`, `#`, `%23`, a stray `)` or full stop): links pasted into notes carry such tails.
_ARXIV_URL_RE = re.compile(
    r"(?:https?://)?(?:"
    r"(?:[a-z0-9-]+\.)*(?:arxiv\.org|ar5iv\.org|xxx\.lanl\.gov|alphaxiv\.org)(?::\d+)?"
    r"/(?:abs|pdf|ps|format|html|src)/+"
    r"|(?:www\.)?arxiv-vanity\.com/papers/+"
    r"|(?:dx\.)?doi\.org/10\.48550/arxiv\."
    rf")(?:arxiv:)?(?:{_NEW_ID}|{_OLD_ID})(?:\.pdf)?(?:[^A-Za-z0-9_].*)?",
    re.IGNORECASE | re.DOTALL,
)


def _maybe_arxiv(url: str) -> bool:
    """A cheap test before the full pattern: every host above spells `xiv` or `r5iv`, or is lanl.gov.

    Plain substring tests: a case-blind regular expression search costs ten times as much, on
    every link of every import.
    """
    return "xiv" in url or "Xiv" in url or "XIV" in url or "r5iv" in url or "lanl.gov" in url


def parse_arxiv_id(text: str) -> str | None:
    """The base arXiv id (no version) named by an id, `arXiv:` reference or arxiv.org link; else None."""
    text = text.strip()
    match = _BARE_RE.fullmatch(text) or _ARXIV_URL_RE.fullmatch(text)
    return _arxiv_base(match) if match else None


def _arxiv_base(match: re.Match[str]) -> str | None:
    yymm = match.group("yymm")
    if yymm is not None:
        month, digits = int(yymm[2:]), len(match.group("num"))
        # New-style ids began in April 2007 and grew a fifth digit in January 2015.
        if not 1 <= month <= 12 or int(yymm) < 704 or digits != (5 if int(yymm) >= 1501 else 4):
            return None
        return f"{yymm}.{match.group('num')}"
    archive, number = match.group("arch").lower(), match.group("onum")
    month = int(number[2:4])
    if archive not in OLD_ARCHIVES or not 1 <= month <= 12:
        return None
    # The subject class (`math.GT/...`) is not part of the id: arXiv files it as `math/...`.
    return f"{archive}/{number}"


def arxiv_abs_url(arxiv_id: str) -> str:
    """The canonical abstract page of an arXiv id."""
    return f"https://arxiv.org/abs/{arxiv_id}"


# --- normalization -------------------------------------------------------------------

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Query keys that only say where a click came from, on any host.
_TRACKING_KEYS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_hsenc", "_hsmi", "mkt_tok", "spm", "ref_src", "ref_url", "vd_source",
})
# ... and those that do so only on one site (where elsewhere they may select content).
_SITE_TRACKING = {
    "zhihu.com": frozenset({"rf", "share_code", "utm_psn", "utm_oi", "utm_id"}),
    "csdn.net": frozenset({"ops_request_misc", "request_id", "biz_id", "utm_relevant_index"}),
    "medium.com": frozenset({"source"}),
    "jianshu.com": frozenset({"from", "utm_campaign"}),
    "mp.weixin.qq.com": frozenset({
        "chksm", "scene", "subscene", "from", "isappinstalled", "sessionid", "clicktime", "enterid",
        "ascene", "pass_ticket", "wx_header", "devicetype", "version", "nettype", "lang", "exportkey",
    }),
}
# Paths and queries keep RFC 3986's unreserved and sub-delimiter characters literal and
# percent-encode the rest (non-ASCII as UTF-8); escapes of unreserved characters are decoded.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]+|%")
_NEEDS_ESCAPE_RE = re.compile(r"[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")
_PARTS_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.DOTALL)
_BREAKS_RE = re.compile(r"[\t\r\n]")
# Most links in an outline are already canonical (no query, port or escapes): one match does.
_CANONICAL_RE = re.compile(r"(https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[A-Za-z0-9\-._~!$'()*+,;=:@/]*)?")


def normalize_url(url: str) -> str:
    """One canonical spelling of a link, so that two links to one page compare equal."""
    url = url.strip()
    arxivish = _maybe_arxiv(url)
    if not arxivish:
        canonical = _CANONICAL_RE.fullmatch(url)
        if canonical:
            head, path = canonical.groups("")
            return head + (path.rstrip("/") or "/")
    if arxivish:
        match = _ARXIV_URL_RE.fullmatch(url)
        arxiv_id = _arxiv_base(match) if match else None
        if arxiv_id:
            return arxiv_abs_url(arxiv_id)
    if "\t" in url or "\n" in url or "\r" in url:
        url = _BREAKS_RE.sub("", url)  # as urllib does: a wrapped link is still one link
    if url[:4].lower() == "www.":
        url = "http://" + url
    elif url.startswith("//"):
        url = "http:" + url
    match = _PARTS_RE.fullmatch(url)
    if match is None or match.group(1).lower() not in _DEFAULT_PORTS or not match.group(2):
        return url
    scheme, netloc, path, query, fragment = match.groups("")
    scheme = scheme.lower()
    host, netloc = _netloc(netloc, scheme)
    out = f"{scheme}://{netloc}{_escape(path).rstrip('/') or '/'}"
    query = _clean_query(query, host)
    if query:
        out += "?" + query
    # Hash routes (`#/page`, `#!/page`) name a page of a single-page app; other fragments do not.
    if fragment.startswith(("/", "!")):
        out += "#" + _escape(fragment)
    return out


def _netloc(netloc: str, scheme: str) -> tuple[str, str]:
    """The lowercase host and the rebuilt netloc (userinfo kept, default port dropped)."""
    userinfo, _, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    if not hostport.startswith("[") and hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
    elif hostport.startswith("[") and "]:" in hostport:
        host, _, port = hostport.rpartition(":")
    host = _ascii_host(host.lower().rstrip("."))
    netloc = host if port in ("", _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return host, f"{userinfo}@{netloc}" if userinfo else netloc


def _ascii_host(host: str) -> str:
    """A host with its non-ASCII labels in punycode, so both spellings of an IDN agree."""
    if host.isascii():
        return host
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append("xn--" + label.encode("punycode").decode("ascii"))
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


def _escape_one(match: re.Match[str]) -> str:
    hexpair = match.group(1)
    if hexpair is not None:
        char = chr(int(hexpair, 16))
        return char if char in _UNRESERVED else "%" + hexpair.upper()
    run = match.group(0)
    return "%25" if run == "%" else quote(run, safe="")


def _escape(text: str) -> str:
    """Percent-encode what must be, upper-case escapes, decode needless ones; idempotent."""
    if _NEEDS_ESCAPE_RE.search(text) is None:
        return text
    return _ESCAPE_RE.sub(_escape_one, text)


def _is_tracking(key: str, host: str) -> bool:
    key = unquote_plus(key).lower()
    if key.startswith(("utm_", "depth_1-")) or key in _TRACKING_KEYS:
        return True
    return any(key in keys and (host == site or host.endswith("." + site)) for site, keys in _SITE_TRACKING.items())


def _clean_query(query: str, host: str) -> str:
    """The query without tracking parameters, the rest in their order."""
    if not query:
        return ""
    kept = [_escape(p) for p in query.split("&") if p and not _is_tracking(p.partition("=")[0], host)]
    return "&".join(kept)


def host_of(url: str | None) -> str:
    """The lowercase host name of a link (no port, no userinfo); "" when there is none."""
    if not url:
        return ""
    url = url.strip()
    if url[:4].lower() == "www.":
        url = "http://" + url
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


# --- kinds ---------------------------------------------------------------------------

_SPLIT_RE = re.compile(r"([a-z][a-z0-9+.-]*)://(?:[^@/?#]*@)?([^/?#:]*)[^/?#]*([^?#]*)", re.IGNORECASE)
_ARXIV_HOSTS = frozenset({"arxiv.org", "ar5iv.org"})
_PAPER_HOSTS = frozenset({
    "openreview.net", "doi.org", "papers.nips.cc", "proceedings.neurips.cc", "papers.neurips.cc",
    "aclanthology.org", "openaccess.thecvf.com", "proceedings.mlr.press", "biorxiv.org", "medrxiv.org",
    "papers.ssrn.com", "ojs.aaai.org", "pdfs.semanticscholar.org", "ecva.net", "citeseerx.ist.psu.edu",
})
# Hosts that publish papers only under some paths.
_PAPER_PATHS = {
    "aclweb.org": "/anthology", "jmlr.org": "/papers", "dl.acm.org": "/doi", "ieeexplore.ieee.org": "/document",
    "link.springer.com": "/article", "sciencedirect.com": "/science/article", "nature.com": "/articles",
    "science.org": "/doi", "semanticscholar.org": "/paper", "paperswithcode.com": "/paper",
    "researchgate.net": "/publication", "ijcai.org": "/proceedings", "aaai.org": "/papers",
}
_QA_HOSTS = frozenset({"stackoverflow.com", "stackexchange.com", "mathoverflow.net", "superuser.com"})
_CODE_HOSTS = frozenset({"github.com", "gitlab.com", "gitee.com", "bitbucket.org", "codeberg.org"})
# First path segments of code hosts that are site pages, not an owner.
_CODE_RESERVED = frozenset({
    "about", "features", "topics", "collections", "trending", "explore", "marketplace", "sponsors",
    "settings", "orgs", "organizations", "login", "join", "pricing", "search", "notifications", "site",
    "security", "enterprise", "apps", "readme", "events", "issues", "pulls", "new", "codespaces", "users",
    "help", "dashboard",
})
_COURSE_HOSTS = frozenset({"coursera.org", "edx.org", "udacity.com", "udemy.com", "icourse163.org",
                           "xuetangx.com", "ocw.mit.edu", "classcentral.com"})
_ARTICLE_HOSTS = frozenset({"medium.com", "towardsdatascience.com", "substack.com", "distill.pub"})
_COURSE_HOST_RE = re.compile(r"(?:^|\.)(?:cs|ee|stat|math)\d{2,4}[a-z]?\.|(?<!dis)course|mooc")
_DATE_PATH_RE = re.compile(r"/(?:19|20)\d\d/\d\d?/")
_ARTICLE_SEGMENTS = frozenset({"post", "posts", "blog", "blogs", "article", "articles", "p", "entry", "news"})
_LISTING_SEGMENTS = frozenset({"tag", "tags", "category", "categories", "archive", "archives", "topics",
                               "column", "collection", "series", "label"})


class _Parts(NamedTuple):
    host: str
    path: str
    segments: list[str]
    domains: frozenset[str]  # the host and every parent domain: a.b.c -> {a.b.c, b.c, c}


def _parts(url: str) -> _Parts | None:
    url = url.strip()
    match = _SPLIT_RE.match("http://" + url if url[:4].lower() == "www." else url)
    if not match or match.group(1).lower() not in _DEFAULT_PORTS:
        return None
    host = match.group(2).lower().removeprefix("www.")
    path = match.group(3).lower()
    return _Parts(host, path, [s for s in path.split("/") if s], _domains(host))


@lru_cache(maxsize=4096)
def _domains(host: str) -> frozenset[str]:
    labels = host.split(".")
    return frozenset(".".join(labels[i:]) for i in range(len(labels)))


# Kinds by URL shape: numbers in a path are ids (a question, a post, a repo), never what decides
# the kind, except in a date (`/2019/05/`), which is checked apart.
_DIGITS_RE = re.compile(r"\d+")
_KIND_CACHE: dict[str, str] = {}
_KIND_CACHE_SIZE = 20000


def kind_from_url(url: str | None) -> str:
    """The contract kind a link suggests: paper, question, article, listing, repo, course, book or page."""
    if not url:
        return "book"
    if _maybe_arxiv(url):
        return "paper" if parse_arxiv_id(url) else _kind(url)
    cut = url.find("/", url.find("//") + 2)
    if cut < 0:
        return _kind(url)
    shape = url[:cut] + _DIGITS_RE.sub("#", url[cut:])
    kind = _KIND_CACHE.get(shape)
    if kind is None:
        if len(_KIND_CACHE) >= _KIND_CACHE_SIZE:
            _KIND_CACHE.clear()
        kind = _KIND_CACHE[shape] = _kind(url, dates=False)
    if kind == "page" and _DATE_PATH_RE.search(url, cut):
        return "article"
    return kind


def _kind(url: str, dates: bool = True) -> str:
    parts = _parts(url)
    if parts is None:
        return "page"
    for rule in _RULES:
        kind = rule(parts)
        if kind:
            return kind
    if parts.path.endswith(".pdf"):
        return "paper"
    if _LISTING_SEGMENTS.intersection(parts.segments):
        return "listing"
    return "article" if _generic_article(parts, dates) else "page"


def _paper(u: _Parts) -> str | None:
    if not u.domains.isdisjoint(_ARXIV_HOSTS):
        if parse_arxiv_id("https://arxiv.org" + u.path):
            return "paper"
        return "listing" if u.segments[:1] in (["list"], ["a"]) else "page"
    if not u.domains.isdisjoint(_PAPER_HOSTS):
        return "paper"
    for domain in u.domains.intersection(_PAPER_PATHS):
        if u.path.startswith(_PAPER_PATHS[domain]):
            return "paper"
    return None


def _question(u: _Parts) -> str | None:
    first = u.segments[:1]
    if ("zhihu.com" in u.domains and first == ["question"]) or (
            not u.domains.isdisjoint(_QA_HOSTS) and first == ["questions"]):
        return "question"
    if ("quora.com" in u.domains and first) or ("segmentfault.com" in u.domains and first == ["q"]):
        return "question"
    return None


def _site_listing(u: _Parts) -> str | None:
    first, path = u.segments[:1], u.path
    if u.host == "zhuanlan.zhihu.com" and len(u.segments) == 1:
        return "listing"  # a column's home page lists its posts
    if "zhihu.com" in u.domains and first in (["column"], ["topic"], ["collection"]):
        return "listing"
    if "csdn.net" in u.domains and ("/article/category/" in path or any(s.startswith("category_") for s in u.segments)
                                    or (u.host == "blog.csdn.net" and len(u.segments) == 1)):
        return "listing"
    if "cnblogs.com" in u.domains and (len(u.segments) == 1 or {"tag", "category"} & set(u.segments)):
        return "listing"
    if "github.com" in u.domains and first in (["topics"], ["collections"]):
        return "listing"
    return None


def _site_article(u: _Parts) -> str | None:
    first, path, domains = u.segments[:1], u.path, u.domains
    if (u.host == "zhuanlan.zhihu.com" and first == ["p"]) or ("csdn.net" in domains and "/article/details/" in path):
        return "article"
    if "cnblogs.com" in domains and "p" in u.segments and path.endswith(".html"):
        return "article"
    if ("cloud.tencent.com" in domains and path.startswith("/developer/article")) or (
            "developer.aliyun.com" in domains and path.startswith("/article")):
        return "article"
    if not domains.isdisjoint(("jianshu.com", "juejin.cn", "sspai.com", "36kr.com")) and first in (["p"], ["post"]):
        return "article"
    if (u.host == "mp.weixin.qq.com" and first == ["s"]) or ("segmentfault.com" in domains and first == ["a"]):
        return "article"
    if not domains.isdisjoint(_ARTICLE_HOSTS) and u.segments:
        return "article" if len(u.segments) > 1 or not u.segments[0].startswith("@") else "listing"
    return None


def _repo(u: _Parts) -> str | None:
    if u.domains.isdisjoint(_CODE_HOSTS) or u.path.endswith(".pdf"):
        return None
    if u.host == "gist.github.com" and u.segments:
        return "repo"
    if len(u.segments) >= 2 and u.segments[0] not in _CODE_RESERVED:
        return "repo"
    return None


def _course(u: _Parts) -> str | None:
    if not u.domains.isdisjoint(_COURSE_HOSTS) or _COURSE_HOST_RE.search(u.host):
        return "course"
    if any("course" in s or s == "syllabus" for s in u.segments):
        return "course"
    if (u.host.endswith(".edu") or ".edu." in u.host) and {"class", "teaching", "lectures"} & set(u.segments):
        return "course"
    return None


def _book(u: _Parts) -> str | None:
    if "facebook.com" in u.domains:
        return None
    labels = u.host.split(".")[:-1]
    if any(lb.endswith(("book", "books")) and not lb.endswith(("notebook", "notebooks")) for lb in labels):
        return "book"
    segments = u.segments[:-1] if u.path.endswith((".html", ".htm")) else u.segments
    if {"book", "books", "ebook"} & set(segments):
        return "book"
    return None


def _generic_article(u: _Parts, dates: bool = True) -> bool:
    if not u.segments:
        return False
    if u.host.startswith(("blog.", "blogs.")) or ".blog." in u.host or (dates and _DATE_PATH_RE.search(u.path)):
        return True
    if _ARTICLE_SEGMENTS.intersection(u.segments[:-1]):
        return True
    return u.host.endswith(".github.io") and len(u.segments) >= 2 and u.path.endswith((".html", "/"))


_RULES = (_paper, _question, _site_listing, _site_article, _repo, _course, _book)
