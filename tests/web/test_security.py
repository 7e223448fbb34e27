"""The rules that keep other sites' pages from using the local app: Host, CSRF token, Origin."""

from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import Cli
from tests.web.conftest import HOST, PORT, Site
from tracker.store import db as dbmod
from tracker.web.app import create_app
from tracker.web.security import Guard


def post_routes(client: TestClient) -> list[str]:
    """Every path of the app that takes a POST, with an item id filled in."""
    starlette = client.app.app  # type: ignore[attr-defined]
    paths = [r.path for r in starlette.routes if isinstance(r, Route) and "POST" in (r.methods or ())]
    assert len(paths) == 5
    return paths


def state(cli: Cli, site: Site) -> list[object]:
    """What a forged request could have changed."""
    shown = cli.json("show", str(site.basics[0]))
    inbox = cli.json("list", "--status", "inbox")
    return [shown["status"], shown["history"], shown["notes"], shown["topics"], [r["id"] for r in inbox]]


FORMS = {"status": "digested", "text": "forged", "slug": "gen", "action": "accept"}


def test_a_post_without_the_token_changes_nothing(client: TestClient, guard: Guard, cli: Cli, site: Site) -> None:
    before = state(cli, site)
    for path in post_routes(client):
        url = path.replace("{ref:path}", str(site.basics[0]))
        for token in (None, "", "0" * 43, guard.token[:-1]):
            form = {**FORMS, "id": str(site.papers["2411.00001"])}
            if token is not None:
                form["csrf"] = token
            answer = client.post(url, data=form)
            assert answer.status_code == 403, (url, token, answer.text)
            assert "token is missing or out of date" in answer.text
    assert state(cli, site) == before


def test_the_token_may_come_as_a_header(client: TestClient, guard: Guard, cli: Cli, site: Site) -> None:
    answer = client.post(f"/item/{site.basics[0]}/mark", data={"status": "reading"},
                         headers={"x-csrf-token": guard.token, "accept": "application/json"})
    assert answer.status_code == 200 and answer.json()["status"] == "reading"


def test_a_cross_site_origin_is_refused_even_with_the_token(client: TestClient, guard: Guard, cli: Cli,
                                                            site: Site) -> None:
    before = state(cli, site)
    url = f"/item/{site.basics[0]}/mark"
    form = {"csrf": guard.token, "status": "digested"}
    for headers in ({"origin": "http://evil.example"}, {"origin": f"http://evil.example:{PORT}"},
                    {"origin": "null"}, {"origin": f"https://{HOST}:{PORT}"}, {"origin": f"http://{HOST}:1"},
                    {"sec-fetch-site": "cross-site"}):
        answer = client.post(url, data=form, headers=headers)
        assert answer.status_code == 403 and "another site" in answer.text, headers
    assert state(cli, site) == before
    for origin in (f"http://{HOST}:{PORT}", f"http://localhost:{PORT}"):
        headers = {"origin": origin, "sec-fetch-site": "same-origin"}
        assert client.post(url, data=form, headers=headers).status_code == 303
    assert cli.json("show", str(site.basics[0]))["status"] == "digested"


@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", f"{HOST}:1", "127.0.0.1.nip.io:8765",
                                  "localhost.evil.example:8765", "[::1]:1", ""])
def test_a_request_for_another_host_is_refused(client: TestClient, site: Site, host: str) -> None:
    for method in ("GET", "POST"):
        answer = client.request(method, "/", headers={"host": host})
        assert answer.status_code == 400 and "answers only to the address" in answer.text
        assert "Basics" not in answer.text
        assert "default-src 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("host", [f"{HOST}:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}", f"LOCALHOST:{PORT}"])
def test_loopback_names_of_the_served_port_are_accepted(client: TestClient, site: Site, host: str) -> None:
    assert client.get("/", headers={"host": host}).status_code == 200


def test_each_server_has_its_own_token(database: dbmod.Database, site: Site) -> None:
    first, second = Guard(HOST, PORT), Guard(HOST, PORT)
    assert first.token != second.token and len(first.token) >= 40
    with TestClient(create_app(database, guard=first), base_url=f"http://{HOST}:{PORT}") as client:
        page = client.get(f"/item/{site.basics[0]}").text
        assert f'name="csrf" value="{first.token}"' in page
        answer = client.post(f"/item/{site.basics[0]}/mark", data={"csrf": second.token, "status": "digested"})
        assert answer.status_code == 403


def test_guard_rules_for_other_bindings() -> None:
    everywhere = Guard("0.0.0.0", 80)
    assert everywhere.host_allowed("192.168.1.4") and everywhere.host_allowed("[fe80::1]:80")
    assert everywhere.host_allowed("localhost") and not everywhere.host_allowed("evil.example")
    named = Guard("study.lan", 8000)
    assert named.host_allowed("study.lan:8000") and not named.host_allowed("localhost:8000")
    assert not named.host_allowed("10.0.0.2:8000")
    assert Guard("::1", 9000).host_allowed("[::1]:9000") and Guard("::1", 9000).host_allowed("localhost:9000")
