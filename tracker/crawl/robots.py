"""robots.txt as the crawler reads it: urllib's rules, plus a Crawl-delay that may be a fraction."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.robotparser import RobotFileParser


@dataclass(frozen=True)
class Robots:
    """A host's robots.txt: may `agent` fetch a URL, and how long to wait between two requests."""

    rules: RobotFileParser
    delay: float | None  # seconds, for the crawler's agent (else `*`); None where the file sets none

    def allows(self, agent: str, url: str) -> bool:
        """May `agent` (the User-Agent's product token) fetch `url`?"""
        return self.rules.can_fetch(agent, url)


def parse(text: str, agent: str) -> Robots:
    """The rules and Crawl-delay of a robots.txt's text, for `agent`."""
    lines = text.splitlines()
    rules = RobotFileParser()
    rules.parse(lines)
    return Robots(rules=rules, delay=crawl_delay(lines, agent))


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups name (`tracker` of `tracker/0.1 (...)`)."""
    return user_agent.split("/", 1)[0]


def crawl_delay(lines: list[str], agent: str) -> float | None:
    """`Crawl-delay` for `agent` (else for `*`), fractions allowed; urllib's parser takes whole seconds only."""
    found: dict[str, float] = {}
    group: list[str] = []
    in_rules = False
    for line in lines:
        name, _, value = line.split("#", 1)[0].partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "user-agent":
            if in_rules:
                group, in_rules = [], False
            group.append(value.lower())
        elif name:
            in_rules = True
            if name == "crawl-delay":
                try:
                    seconds = float(value)
                except ValueError:
                    continue
                for who in group:
                    found.setdefault(who, seconds)
    agent = agent.lower()
    return next((v for k, v in found.items() if k != "*" and k in agent), found.get("*"))
