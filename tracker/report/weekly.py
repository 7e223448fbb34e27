"""The weekly report: what was digested and started, per-topic change, streak, new papers.

Weeks are ISO weeks, Monday 00:00 to Sunday 24:00 in local time; the database's naive
UTC times are compared against the week's bounds converted to UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from sqlalchemy import DateTime, and_, case, exists, func, select, type_coerce
from sqlalchemy.engine import Connection

from tracker.report import checkpoints, days
from tracker.report.days import day_start
from tracker.report.moments import rewound, status_at_time
from tracker.report.progress import compute_progress
from tracker.report.weeks import Week, week_of
from tracker.store import db as dbmod
from tracker.store.tables import event_t, fetch_t, goal_t, item_t, paper_t, tag_t, topic_t
from tracker.timeutil import iso_local, to_local, to_utc

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Row


@dataclass(frozen=True)
class Entry:
    """An item digested or started during the week."""

    id: int
    title: str
    topics: list[str]
    at: str | None


@dataclass(frozen=True)
class TopicWeek:
    """One topic's week."""

    slug: str
    title: str
    digested_this_week: int
    digested_total: int
    total: int
    percent: float
    delta: float


class GoalPace(TypedDict):
    """A weekly goal against the week's digested items of its topic."""

    slug: str
    title: str
    goal: int
    digested: int
    pace: str


class LostLink(TypedDict):
    """A link the crawler found gone or blocked."""

    id: int
    title: str
    url: str | None
    state: str


class NewPaper(TypedDict):
    """A paper that arrived in the inbox."""

    id: int
    title: str
    published: str | None


class NextRead(TypedDict):
    """An item suggested for the week ahead."""

    id: int
    title: str
    topics: list[str]
    reason: str


@dataclass
class WeeklyReport:
    """Everything the weekly report says, as the contract's JSON plus extras."""

    week: str
    start: str
    end: str
    digested: list[Entry]
    started: list[Entry]
    added: int
    new_papers: int
    streak_days: int
    topics: list[TopicWeek]
    percent: float = 0.0
    delta: float = 0.0
    stalled: list[Entry] = field(default_factory=list)
    # {"week": "2026-W07", "digested": 3}; a plain dict, as report.html's chart takes it.
    history: list[dict[str, str | int]] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    goals: list[GoalPace] = field(default_factory=list)
    links: list[LostLink] = field(default_factory=list)
    papers: dict[str, list[NewPaper]] = field(default_factory=dict)
    suggestions: list[NextRead] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The contract's weekly JSON."""
        # One level of copying is all JSON needs; dataclasses.asdict deep-copies every nested value.
        out = dict(vars(self))
        for name in ("digested", "started", "stalled", "topics"):
            out[name] = [dict(vars(row)) for row in out[name]]
        return out


def local_iso(week: Week) -> Callable[[datetime], str | None]:
    """`iso_local` for times within the week, cheaper when the week has one UTC offset throughout."""
    first, last = to_local(week.start), to_local(week.last_moment)
    if first.utcoffset() != last.utcoffset():  # a week with a clock change: convert each time
        return iso_local
    # What follows the seconds in an ISO time: "+08:00", or "+00:17:30" for an offset with seconds.
    offset, suffix = first.utcoffset() or timedelta(0), first.isoformat(timespec="seconds")[19:]
    return lambda stored: (stored + offset).isoformat(timespec="seconds") + suffix


def _in_week(week: Week) -> ColumnElement[bool]:
    return and_(event_t.c.at >= week.start, event_t.c.at < week.end)


def _digested_and_started(conn: Connection, week: Week) -> tuple[list[Entry], list[Entry]]:
    """Items digested in the week and still digested at its end (last time), and items started (first time)."""
    in_week = and_(_in_week(week), event_t.c.status.in_(("digested", "reading")))
    # The moment listed: the last digest of the week, or the first start. One time column per row,
    # since turning SQLite's text back into datetimes is much of the cost with thousands of rows.
    moment = case((event_t.c.status == "digested", func.max(event_t.c.at)), else_=func.min(event_t.c.at))
    at = type_coerce(moment, DateTime).label("at")
    query = (select(item_t.c.id, item_t.c.title, event_t.c.status, status_at_time(week.last_moment).label("at_end"), at)
             .select_from(event_t.join(item_t, item_t.c.id == event_t.c.item_id))
             .where(in_week, item_t.c.retired.is_(False)).group_by(item_t.c.id, item_t.c.title, event_t.c.status)
             .order_by(at, item_t.c.id))
    digested, started = [], []
    for r in conn.execute(query):
        if r.status == "reading":
            started.append(r)
        elif r.at_end == "digested":  # digested in the week and not undone before it ended
            digested.append(r)
    # Tags picked by the same condition in SQL: thousands of ids as parameters cost more than the query.
    tags = dbmod.item_topics(conn, select(event_t.c.item_id).where(in_week))

    local = local_iso(week)

    def entries(rows: list[Row]) -> list[Entry]:
        return [Entry(id=r.id, title=r.title, topics=tags.get(r.id, []), at=local(r.at)) for r in rows]

    return entries(digested), entries(started)


def _added(conn: Connection, week: Week) -> tuple[int, int]:
    """Items added to the list during the week, and papers that arrived: one pass over the items."""
    is_paper = (item_t.c.source == "arxiv").label("paper")
    added = papers = 0
    for paper, count in conn.execute(select(is_paper, func.count()).where(
            item_t.c.added_at >= week.start, item_t.c.added_at < week.end).group_by(is_paper)):
        if paper:
            papers = int(count)
        else:
            added = int(count)
    return added, papers


def weekly_report(conn: Connection, label: str | None = None, now: datetime | None = None) -> WeeklyReport:
    """The report of the week `label` (default: the current one)."""
    now = (now or datetime.now()).astimezone()
    week = week_of(label, now)
    today = compute_progress(conn)
    at_end = rewound(conn, today, week.last_moment)
    before = rewound(conn, today, week.start - timedelta(microseconds=1), known=(week.last_moment, at_end))
    digested, started = _digested_and_started(conn, week)
    per_topic: dict[str, int] = {}
    for entry in digested:
        for slug in entry.topics:
            per_topic[slug] = per_topic.get(slug, 0) + 1
    previous = {t.slug: t.percent for t in before.topics}
    topics = [TopicWeek(slug=t.slug, title=t.title, digested_this_week=per_topic.get(t.slug, 0),
                        digested_total=t.digested, total=t.total, percent=t.percent,
                        delta=round(t.percent - previous.get(t.slug, 0.0), 1)) for t in at_end.topics]
    sunday = week.monday + timedelta(days=6)
    last_day = min(sunday, now.date()) if now.date() >= week.monday else sunday
    from tracker.report.next import suggest_next

    titles = {t.slug: t.title for t in at_end.topics}
    added, new_papers = _added(conn, week)
    closed = checkpoints.closed_weeks(conn)
    return WeeklyReport(
        week=week.label, start=week.monday.isoformat(), end=sunday.isoformat(), digested=digested,
        started=started, added=added, new_papers=new_papers,
        streak_days=days.streak(conn, last_day, {m: c[0] for m, c in closed.items()}), topics=topics,
        percent=at_end.percent,
        delta=round(at_end.percent - before.percent, 1), stalled=_stalled(conn, now),
        history=_history(conn, week, closed), untouched=_untouched(conn, week),
        goals=_goals(conn, per_topic, titles), links=_links(conn, week), papers=_papers(conn, week),
        suggestions=[NextRead(id=s.id, title=s.title, topics=s.topics, reason=s.reason)
                     for s in suggest_next(conn, limit=5, progress=today)],
    )


HISTORY_WEEKS = 12
UNTOUCHED_WEEKS = 4
PAPERS_PER_TOPIC = 3
STALLED_SHOWN = 20


def _history(conn: Connection, week: Week, closed: dict[datetime, tuple[int, int]]) -> list[dict[str, str | int]]:
    """Items digested per week over the last twelve weeks, oldest first (for the chart)."""
    out: list[dict[str, str | int]] = []
    for back in range(HISTORY_WEEKS - 1, -1, -1):
        monday = week.monday - timedelta(weeks=back)
        year, number = monday.isocalendar()[:2]
        start, end = day_start(monday), day_start(monday + timedelta(days=7))
        count = closed[end][1] if end in closed else days.digested_between(conn, start, end)
        out.append({"week": f"{year}-W{number:02d}", "digested": count})
    return out


def _untouched(conn: Connection, week: Week) -> list[str]:
    """Topics, in outline order, that existed four weeks before the week's end and none of whose items
    changed status since."""
    since = week.end - timedelta(weeks=UNTOUCHED_WEEKS)
    # Asked per topic, so a topic stops at its first changed item; SQLite walks each topic's items
    # by the slug index and probes each one's events by the (item_id, at) index.
    active = exists(select(tag_t.c.item_id).select_from(tag_t.join(event_t, event_t.c.item_id == tag_t.c.item_id))
                    .where(tag_t.c.slug == topic_t.c.slug, tag_t.c.origin != "untag",
                           event_t.c.at >= since, event_t.c.at < week.end))
    # A topic only counts once it existed four weeks ago: one of its items was on the list by then
    # (a brand-new tracker has nothing stale).
    existed = exists(select(tag_t.c.item_id).select_from(tag_t.join(item_t, item_t.c.id == tag_t.c.item_id))
                     .where(tag_t.c.slug == topic_t.c.slug, tag_t.c.origin != "untag", item_t.c.added_at <= since))
    query = (select(topic_t.c.title).where(existed, ~active)
             .order_by(topic_t.c.outline_id, topic_t.c.position, topic_t.c.id))
    return [title for (title,) in conn.execute(query)]


def _goals(conn: Connection, per_topic: dict[str, int], titles: dict[str, str]) -> list[GoalPace]:
    """Pace against the learner's weekly goals: ahead, on pace or behind."""
    out = []
    for slug, goal in conn.execute(select(goal_t.c.slug, goal_t.c.per_week).order_by(goal_t.c.slug)):
        done = per_topic.get(slug, 0)
        pace = "ahead" if done > goal else "on pace" if done == goal else "behind"
        out.append(GoalPace(slug=slug, title=titles.get(slug, slug), goal=goal, digested=done, pace=pace))
    return out


def _links(conn: Connection, week: Week) -> list[LostLink]:
    """Links the crawler found gone or blocked during the week."""
    rows = conn.execute(select(item_t.c.id, item_t.c.title, item_t.c.url, fetch_t.c.state)
                        .select_from(fetch_t.join(item_t, item_t.c.id == fetch_t.c.item_id))
                        .where(fetch_t.c.state.in_(("gone", "blocked")), fetch_t.c.checked_at >= week.start,
                               fetch_t.c.checked_at < week.end).order_by(item_t.c.id))
    return [LostLink(id=r.id, title=r.title, url=r.url, state=r.state) for r in rows]


def _papers(conn: Connection, week: Week) -> dict[str, list[NewPaper]]:
    """The best few papers per topic that arrived in the inbox during the week.

    Best is the strongest fit to the topic (the query that found the paper, else the classifier's
    score), then the newest. The inbox's full ranking also weighs similarity to what was read;
    it needs scikit-learn, whose import alone would take most of the report's time budget.
    """
    rows = conn.execute(select(item_t.c.id, item_t.c.title, tag_t.c.slug, paper_t.c.published)
                        .select_from(item_t.join(tag_t, tag_t.c.item_id == item_t.c.id)
                                     .outerjoin(paper_t, paper_t.c.item_id == item_t.c.id))
                        .where(item_t.c.source == "arxiv", item_t.c.status == "inbox", tag_t.c.origin != "untag",
                               item_t.c.added_at >= week.start, item_t.c.added_at < week.end)
                        .order_by(tag_t.c.slug, tag_t.c.score.desc(), paper_t.c.published.desc(), item_t.c.id))
    out: dict[str, list[NewPaper]] = {}
    for r in rows:
        bucket = out.setdefault(r.slug, [])
        if len(bucket) < PAPERS_PER_TOPIC:
            bucket.append(NewPaper(id=r.id, title=r.title, published=iso_local(r.published)))
    return out


def _stalled(conn: Connection, now: datetime) -> list[Entry]:
    """Items in `reading` for more than 14 days, the longest-stalled first (at most twenty)."""
    cutoff = to_utc(now) - timedelta(days=14)
    rows = conn.execute(select(item_t.c.id, item_t.c.title, item_t.c.status_at).where(
        item_t.c.status == "reading", item_t.c.retired.is_(False), item_t.c.status_at < cutoff)
        .order_by(item_t.c.status_at).limit(STALLED_SHOWN))
    return [Entry(id=r.id, title=r.title, topics=[], at=iso_local(r.status_at)) for r in rows]


def render_markdown(report: WeeklyReport) -> str:
    """The report as Markdown, fit for a git journal."""
    def items(entries: list[Entry]) -> list[str]:
        if not entries:
            return ["- (none)"]
        return [f"- {_md(e.title)} — {', '.join(e.topics) or 'no topic'} ({(e.at or '')[:10]})" for e in entries]

    lines = [f"# Week {report.week} ({report.start} – {report.end})", "",
             f"Digested {len(report.digested)}, started {len(report.started)}, added {report.added}, "
             f"new papers {report.new_papers}. Streak: {report.streak_days} day(s). "
             f"Overall {report.percent:.1f}% ({report.delta:+.1f}).", "",
             "## Digested", "", *items(report.digested), "", "## Started", "", *items(report.started), "",
             "## Topics", "", "| topic | this week | digested | total | % | change |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {_md(t.title)} | {t.digested_this_week} | {t.digested_total} | {t.total} | {t.percent:.1f} | "
              f"{t.delta:+.1f} |" for t in report.topics]
    if report.untouched:
        lines += ["", "Untouched for four weeks or more: " + ", ".join(_md(t) for t in report.untouched) + "."]
    if report.goals:
        lines += ["", "## Goals", ""] + [f"- {_md(g['title'])}: {g['digested']}/{g['goal']} this week, {g['pace']}"
                                          for g in report.goals]
    if report.stalled:
        lines += ["", "## Stalled (reading for more than 14 days)", "", *items(report.stalled)]
    if report.links:
        lines += ["", "## Links found gone or blocked", ""] + [
            f"- {_md(link['title'])} ({link['state']}): <{link['url']}>" for link in report.links]
    if report.papers:
        lines += ["", "## New papers", ""]
        for slug, papers in report.papers.items():
            lines += [f"- {slug}: " + "; ".join(_md(p["title"]) for p in papers)]
    if report.suggestions:
        lines += ["", "## Next week", ""] + [f"- {_md(s['title'])} — {s['reason']}" for s in report.suggestions]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    # Titles come from outlines and crawled pages: keep them from breaking the table or adding markup.
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
