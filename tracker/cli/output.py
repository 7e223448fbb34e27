"""Output for people and for scripts: one JSON document, a rich console, progress lines.

The rule for people: every string that came from an outline, a page or a feed is printed as
text. Rich never reads it as markup (`[/INST]` in a paper's title, `[link=...]`) or as an
emoji code, and no control character reaches the terminal: C0, DEL and C1 characters (ESC
among them) and the bidirectional overrides are shown escaped, as `\\x1b` or `\\u202e`.
Printing goes through `plain` (builtin `print`), `rich_text` (a rich cell or line) or `console`,
whose strings are cleaned the same way.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.text import Text

# Characters a terminal may act on: C0 (tab and line feed only where lines are kept), DEL, C1,
# and the bidirectional embeddings, overrides and isolates that reorder what follows them.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_CONTROL_IN_LINES_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: object, lines: bool = False) -> str:
    """`value` as text safe for a terminal: control characters escaped (line feeds and tabs kept if `lines`)."""
    text = value if isinstance(value, str) else str(value)
    return (_CONTROL_IN_LINES_RE if lines else _CONTROL_RE).sub(_escaped, text)


def rich_text(value: object, style: str = "", lines: bool = False) -> Text:
    """A rich Text of `value`, cleaned by `plain`: a table cell or line that is never read as markup."""
    from rich.text import Text

    return Text(plain(value, lines), style=style)


def json_text(value: object, indent: int | None = None) -> str:
    """One JSON document, its non-ASCII text kept as is but for the controls JSON leaves raw.

    json.dumps escapes C0 itself; C1 and the bidirectional controls, which it writes raw under
    `ensure_ascii=False`, are written as `\\u` escapes too (the same JSON, safe on a terminal).
    """
    dumped = json.dumps(value, ensure_ascii=False, default=str, indent=indent)
    return _CONTROL_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


def emit_json(value: object) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json_text(value) + "\n")


def console() -> Console:
    """A rich console for human output (imported only when a person is reading).

    Markup and emoji codes are off, so strings print as they are; each string it renders
    (table cells, titles) is cleaned by `plain`, as one line: print lines one by one.
    """
    from rich.console import Console

    class _PlainConsole(Console):
        def render_str(self, text: str, **options: Any) -> Text:
            return super().render_str(plain(text), **options)

    return _PlainConsole(markup=False, emoji=False)


def progress_bar(screen: Console | None = None, transient: bool = True) -> Progress:
    """A rich progress bar whose task descriptions are text, never markup, on the cleaning console."""
    from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskProgressColumn, TimeRemainingColumn

    class _Description(ProgressColumn):
        def render(self, task: Task) -> Text:
            return rich_text(task.description)

    return Progress(_Description(), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                    transient=transient, auto_refresh=False, console=screen or console())


def say(message: str) -> None:
    """Progress lines for a person watching: on stderr, so stdout stays clean for pipes."""
    sys.stderr.write(plain(message) + "\n")
