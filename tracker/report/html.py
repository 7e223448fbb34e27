"""The weekly report as one self-contained HTML file: inline CSS and SVG, no scripts, nothing fetched.

Every text that reaches the page goes through `esc`: titles come from crawled pages and
feeds, and a page titled `<script>…` must show as text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

from tracker.report.weekly import Entry, WeeklyReport

# Where an item's page is (the web app's); the CLI's file links nowhere.
Link = Callable[[int], str]

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;
 margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2330;background:#fbfbfd}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde}
.summary{color:#445} table{border-collapse:collapse;width:100%} td,th{padding:.25rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left} tr:nth-child(even){background:#f0f1f6}
.up{color:#17803d} .down{color:#b42318} ul{padding-left:1.2rem} .muted{color:#778}
svg text{font-size:11px;fill:#445}
"""


def esc(value: object) -> str:
    """Text made safe for HTML element content and attribute values."""
    return escape(str(value), quote=True)


def _title(title: str, item_id: int | None, link: Link | None) -> str:
    """An item's title, as a link to its page where the report is shown by the web app."""
    if link is None or item_id is None:
        return esc(title)
    return f'<a href="{esc(link(item_id))}">{esc(title)}</a>'


def _entries(entries: list[Entry], link: Link | None = None, start: int = 0, count: int | None = None) -> str:
    if not entries:
        return '<p class="muted">none</p>'
    shown = entries[start:] if count is None else entries[start:start + count]
    rows = "".join(f"<li>{_title(e.title, e.id, link)} <span class=\"muted\">— "
                   f"{esc(', '.join(e.topics) or 'no topic')}, {esc((e.at or '')[:10])}</span></li>" for e in shown)
    note = ""
    if len(shown) < len(entries):
        note = (f'<p class="muted shown">{start + 1 if shown else start}–{start + len(shown)} '
                f'of {len(entries)}</p>')
    return f"{note}<ul>{rows}</ul>"


def weeks_chart(history: Sequence[Mapping[str, int | str]], width: int = 640, height: int = 180) -> str:
    """An inline SVG bar chart of items digested per week."""
    weeks = [(str(h["week"]), int(h["digested"])) for h in history]
    top = max([digested for _, digested in weeks] + [1])
    slot = width / max(len(weeks), 1)
    bars = []
    for i, (week, digested) in enumerate(weeks):
        bar_h = (height - 40) * digested / top
        x, y = i * slot + 6, height - 22 - bar_h
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 12:.1f}" height="{bar_h:.1f}" fill="#4f6bed">'
                    f'<title>{esc(week)}: {digested}</title></rect>'
                    f'<text x="{x + (slot - 12) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{digested}</text>'
                    f'<text x="{x + (slot - 12) / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                    f'{esc(week[-3:])}</text>')
    return (f'<svg class="chart weeks" role="img" aria-label="Items digested per week" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(bars) + "</svg>")


def topics_chart(report: WeeklyReport, width: int = 640) -> str:
    """An inline SVG of each topic's percent digested, with this week's gain in a darker shade."""
    row, label_w = 22, 200
    height = row * len(report.topics) + 10
    bars = []
    for i, t in enumerate(report.topics):
        y = i * row + 4
        full = (width - label_w - 50) * t.percent / 100
        gain = (width - label_w - 50) * max(t.delta, 0) / 100
        bars.append(f'<text x="0" y="{y + 14}">{esc(t.title[:24])}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{width - label_w - 50}" height="16" fill="#e4e7f2"/>'
                    f'<rect x="{label_w}" y="{y}" width="{full:.1f}" height="16" fill="#9fb0f5"/>'
                    f'<rect x="{label_w + full - gain:.1f}" y="{y}" width="{gain:.1f}" height="16" fill="#4f6bed"/>'
                    f'<text x="{width - 44}" y="{y + 14}">{t.percent:.1f}%</text>')
    return (f'<svg class="chart topics" role="img" aria-label="Progress per topic" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            + "".join(bars) + "</svg>")


def _topics_table(report: WeeklyReport) -> str:
    rows = []
    for t in report.topics:
        cls = "up" if t.delta > 0 else "down" if t.delta < 0 else ""
        rows.append(f"<tr><td>{esc(t.title)}</td><td>{t.digested_this_week}</td><td>{t.digested_total}</td>"
                    f"<td>{t.total}</td><td>{t.percent:.1f}</td><td class=\"{cls}\">{t.delta:+.1f}</td></tr>")
    return ("<table><tr><th>topic</th><th>this week</th><th>digested</th><th>total</th><th>%</th>"
            "<th>change</th></tr>" + "".join(rows) + "</table>")


def _extras(report: WeeklyReport, link: Link | None = None) -> str:
    parts = []
    if report.untouched:
        parts.append(f"<p>Untouched for four weeks or more: {esc(', '.join(report.untouched))}.</p>")
    if report.goals:
        parts.append("<h2>Goals</h2><ul>" + "".join(
            f"<li>{esc(g['title'])}: {g['digested']}/{g['goal']} this week, {esc(g['pace'])}</li>"
            for g in report.goals) + "</ul>")
    if report.stalled:
        parts.append("<h2>Stalled</h2>" + _entries(report.stalled, link))
    if report.links:
        parts.append("<h2>Links found gone or blocked</h2><ul>" + "".join(
            f"<li>{_title(gone['title'], gone['id'], link)} <span class=\"muted\">({esc(gone['state'])}) "
            f"{esc(gone['url'])}</span></li>" for gone in report.links) + "</ul>")
    if report.papers:
        parts.append("<h2>New papers</h2><ul>" + "".join(
            f"<li><b>{esc(slug)}</b>: {'; '.join(_title(p['title'], p['id'], link) for p in papers)}</li>"
            for slug, papers in report.papers.items()) + "</ul>")
    if report.suggestions:
        parts.append("<h2>Next week</h2><ul>" + "".join(
            f"<li>{_title(s['title'], s['id'], link)} <span class=\"muted\">— {esc(s['reason'])}</span></li>"
            for s in report.suggestions) + "</ul>")
    return "".join(parts)


def render_body(report: WeeklyReport, link: Link | None = None, start: int = 0, count: int | None = None) -> str:
    """The report's content, without the page around it: `render_html` wraps it, the web app shows it.

    `link` makes titles links to item pages; `start` and `count` show a slice of the digested and
    started lists (a busy week lists thousands), with a line saying which.
    """
    summary = (f"Digested {len(report.digested)}, started {len(report.started)}, added {report.added}, "
               f"new papers {report.new_papers}. Streak: {report.streak_days} day(s). "
               f"Overall {report.percent:.1f}% ({report.delta:+.1f}).")
    return (
        f"<h1>Week {esc(report.week)}</h1><p class=\"muted\">{esc(report.start)} – {esc(report.end)}</p>"
        f"<p class=\"summary\">{esc(summary)}</p>"
        f"<h2>Digested per week</h2>{weeks_chart(report.history)}"
        f"<h2>Progress per topic</h2>{topics_chart(report)}"
        f"<h2>Digested</h2>{_entries(report.digested, link, start, count)}"
        f"<h2>Started</h2>{_entries(report.started, link, start, count)}"
        f"<h2>Topics</h2>{_topics_table(report)}{_extras(report, link)}"
    )


def render_html(report: WeeklyReport) -> str:
    """The whole page."""
    return (
        "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        # A data: icon, so a browser asks no server for /favicon.ico.
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>Week {esc(report.week)}</title><style>{STYLE}</style></head><body>"
        f"{render_body(report)}</body></html>\n"
    )
