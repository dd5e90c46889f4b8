"""The help center over HTTP (the in-process app on SQLite): the search API's shape and personal answers by token,
articles as sanitised HTML, the editors' operations by role, feedback, and the pages without login."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from ess.app import create_app
from tests.e2e.conftest import DEMO_PASSWORD
from tests.help_world import make_world

ARTICLE = {
    "category": "general",
    "review_due": "2027-06-01",
    "de": {"title": "Parkplätze", "body": "Die Tiefgarage <script>alert(1)</script> hat **40** Plätze."},
    "en": {"title": "Parking", "body": "The garage has **40** spaces."},
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ess.db'}"
    from tests.conftest import migrate  # noqa: PLC0415 - the conftest's own helper

    migrate(url)
    world = asyncio.run(make_world(url))
    app = create_app(world.container.settings, container=world.container)
    with TestClient(app=app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


def token(client: TestClient[Litestar], login: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"username": login, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def results(client: TestClient[Litestar], q: str, lang: str = "de", **headers: Any) -> list[dict[str, str]]:
    answer = client.get("/api/v1/search", params={"q": q, "lang": lang}, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["results"])


def test_the_search_api_answers_with_kind_title_url_and_snippet(client: TestClient[Litestar]) -> None:
    anonymous = results(client, "Passwort vergessen")
    assert set(anonymous[0]) == {"kind", "title", "url", "snippet"}
    assert ("action", "/password/forgot") in {(r["kind"], r["url"]) for r in anonymous}
    assert ("article", "/help/passwort-vergessen") in {(r["kind"], r["url"]) for r in anonymous}
    assert "answer" not in {r["kind"] for r in results(client, "Resturlaub")}

    anna = results(client, "Resturlaub", **token(client, "anna.schmidt"))
    assert anna[0] == {
        "kind": "answer",
        "title": "Ihr Resturlaub",
        "url": "/vacation",
        "snippet": "Sie haben noch 30 Tage Urlaub.",
    }
    english = results(client, "remaining leave", "en", **token(client, "anna.schmidt"))
    assert english[0]["snippet"] == "You have 30 days of leave left."
    assert results(client, "Konto entsperren")[0]["url"] == "/password/forgot?purpose=unlock"
    assert client.get("/api/v1/search", params={"q": "x" * 201}).status_code == 400


def test_articles_api_lists_and_shows_sanitised_html(client: TestClient[Litestar]) -> None:
    listed = client.get("/api/v1/help/articles", params={"lang": "en"}).json()
    assert len(listed) >= 25
    assert {"leave", "personal", "account", "general"} == {a["category"] for a in listed}
    article = client.get("/api/v1/help/articles/kontakt-hr-it", params={"lang": "en"}).json()
    assert article["title"] == "Contact: HR and IT"
    assert article["languages"] == ["de", "en"]
    assert "personal@example-ess.test" in article["html"]
    assert client.get("/api/v1/help/articles/gibt-es-nicht").status_code == 404


def test_editors_write_their_topics_and_nobody_else(client: TestClient[Litestar]) -> None:
    hr, anna, admin = token(client, "hanna.berger"), token(client, "anna.schmidt"), token(client, "admin")
    assert client.put("/api/v1/help/articles/parkplatz", json=ARTICLE, headers=anna).status_code == 403
    assert client.put("/api/v1/help/articles/parkplatz", json=ARTICLE, headers=hr).status_code == 200
    assert client.get("/api/v1/help/articles/parkplatz").status_code == 404  # a draft
    published = client.post("/api/v1/help/articles/parkplatz/publish", headers=hr)
    assert [(v["lang"], v["version"]) for v in published.json()] == [("de", 1), ("en", 1)]
    shown = client.get("/api/v1/help/articles/parkplatz", params={"lang": "de"}).json()
    assert "<script" not in shown["html"] and "&lt;script&gt;" in shown["html"]
    assert "<strong>40</strong>" in shown["html"]

    account = {**ARTICLE, "category": "account"}
    assert client.put("/api/v1/help/articles/parkplatz", json=account, headers=hr).status_code == 403
    assert client.put("/api/v1/help/articles/parkplatz", json=account, headers=admin).status_code == 200
    versions = client.get("/api/v1/help/articles/parkplatz/versions", headers=admin).json()
    assert [(v["lang"], v["version"], v["created_by"]) for v in versions][:1] == [("de", 1, "hanna.berger")]
    assert client.get("/api/v1/help/articles/parkplatz/versions", headers=anna).status_code == 403
    assert client.put("/api/v1/help/articles/Not%20A%20Slug", json=ARTICLE, headers=hr).status_code == 422


def test_feedback_and_insights(client: TestClient[Litestar]) -> None:
    vote = {"kind": "article", "key": "halbe-tage", "helpful": False, "comment": "Teilzeit?"}
    assert client.post("/api/v1/help/feedback", json=vote).status_code == 204
    assert client.post("/api/v1/help/feedback", json={**vote, "key": "nope"}).status_code == 422
    results(client, "Dienstfahrrad")
    assert client.get("/api/v1/help/insights", headers=token(client, "anna.schmidt")).status_code == 403
    found = client.get("/api/v1/help/insights", headers=token(client, "hanna.berger")).json()
    assert found["feedback"] == [
        {"kind": "article", "key": "halbe-tage", "helpful": 0, "not_helpful": 1, "comments": ["Teilzeit?"]}
    ]
    assert [(m["query"], m["count"]) for m in found["missed_queries"]] == [("dienstfahrrad", 1)]


def test_help_pages_work_without_login(client: TestClient[Litestar]) -> None:
    index = client.get("/help")
    assert index.status_code == 200 and "Passwort vergessen" in index.text
    article = client.get("/help/konto-entsperren")
    assert article.status_code == 200 and "War das hilfreich?" in article.text
    found = client.get("/search", params={"q": "Kenwort vergesen"})
    assert found.status_code == 200 and "/help/passwort-vergessen" in found.text
    assert client.get("/help/gibt-es-nicht").status_code == 404
    assert client.get("/help-editor", follow_redirects=False).status_code in {302, 303}


def log_in_page(client: TestClient[Litestar], login: str) -> None:
    form = client.get("/login").text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    answer = client.post("/login", data={"username": login, "password": DEMO_PASSWORD, "_csrf_token": csrf.group(1)})
    assert answer.status_code == 200 and "/login" not in str(answer.url)


def test_the_flows_link_their_help_and_say_what_happens_next(client: TestClient[Litestar]) -> None:
    log_in_page(client, "anna.schmidt")
    vacation = client.get("/vacation").text
    assert 'href="/help/urlaub-beantragen"' in vacation and "Wie es weitergeht" not in vacation
    sent = client.get("/vacation", params={"created": "1"}).text
    assert "Wie es weitergeht" in sent and "Führungskraft bekommt eine E-Mail" in sent
    assert 'href="/help/genehmigung-urlaub"' in sent
    assert 'href="/help/bankverbindung-aendern"' in client.get("/profile/edit/bank").text
    requested = client.get("/profile", params={"saved": "requested"}).text
    assert "Wie es weitergeht" in requested and "Vier-Augen-Prinzip" in requested


def test_editors_write_and_publish_in_the_app(client: TestClient[Litestar]) -> None:
    log_in_page(client, "anna.schmidt")
    assert client.get("/help-editor").status_code == 403
    client.post("/logout", data={"_csrf_token": csrf_of(client.get("/").text)})

    log_in_page(client, "hanna.berger")
    overview = client.get("/help-editor")
    assert overview.status_code == 200 and "Suchen ohne Ergebnis" in overview.text
    new = client.get("/help-editor", params={"slug": "parkplatz"}, follow_redirects=False)
    assert new.headers["location"] == "/help-editor/articles/parkplatz"
    form = client.get("/help-editor/articles/parkplatz").text
    assert 'value="account"' not in form  # HR cannot choose IT's topic
    saved = client.post(
        "/help-editor/articles/parkplatz",
        data={
            "_csrf_token": csrf_of(form),
            "category": "general",
            "review_due": "2027-06-01",
            "title_de": "Parkplätze",
            "body_de": "Die **Tiefgarage** hat 40 Plätze. <img src=x onerror=alert(1)>",
            "title_en": "Parking",
            "body_en": "The garage has 40 spaces.",
            "publish": "1",
        },
    )
    assert saved.status_code == 200 and "Gespeichert." in saved.text
    shown = client.get("/help/parkplatz").text
    assert "<strong>Tiefgarage</strong>" in shown and "<img src=x" not in shown  # the header's logo is the only image
    assert "Diesen Artikel bearbeiten" in shown


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_every_flow_page_links_its_help_article(client: TestClient[Litestar]) -> None:
    before_login = {
        "/password/forgot": "/help/passwort-vergessen",
        "/password/forgot?purpose=unlock": "/help/passwort-vergessen",
    }
    for path, article in before_login.items():
        assert f'href="{article}"' in client.get(path).text, path
    log_in_page(client, "anna.schmidt")
    after_login = {
        "/password": "/help/passwort-aendern-regeln",
        "/security": "/help/private-email-wiederherstellung",
        "/security/second-factor": "/help/zweiter-faktor",
        "/vacation": "/help/urlaub-beantragen",
        "/profile": "/help/aenderungsantrag-status",
    }
    for path, article in after_login.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'href="{article}"' in page.text, path


def test_a_bank_change_says_what_happens_next_for_a_bank_change(client: TestClient[Litestar]) -> None:
    log_in_page(client, "anna.schmidt")
    bank = client.get("/profile", params={"saved": "requested", "section": "bank"}).text
    assert "Wie es weitergeht" in bank and "bis dahin geht Ihr Gehalt auf das alte Konto" in bank
    assert 'href="/help/bankverbindung-aendern"' in bank
    other = client.get("/profile", params={"saved": "requested", "section": "name"}).text
    assert "Wie es weitergeht" in other and "alte Konto" not in other


def current_step(html: str) -> tuple[str, str]:
    """The step indicator's "Schritt n von m" and the label of the step marked aria-current."""
    count = re.search(r'<p class="steps-count">([^<]+)</p>', html)
    current = re.search(r'<li class="current" aria-current="step">([^<]+)</li>', html)
    assert count is not None and current is not None, html
    return count.group(1), current.group(1)


def test_the_recovery_flow_shows_where_one_is(client: TestClient[Litestar]) -> None:
    assert current_step(client.get("/password/forgot").text) == ("Schritt 1 von 4", "Ihr Konto")
    form = client.get("/password/forgot?purpose=unlock").text
    assert "Entsperren" in re.findall(r"<li class=\"todo\">([^<]+)</li>", form)
    sent = client.post(
        "/password/forgot", data={"login": "anna.schmidt", "purpose": "reset", "_csrf_token": csrf_of(form)}
    )
    assert sent.status_code == 200
    assert current_step(sent.text) == ("Schritt 2 von 4", "Link aus der E-Mail")
    assert "Wie es weitergeht" in sent.text and "funktioniert nur einmal" in sent.text


def test_the_tour_is_offered_until_ended_and_walks_four_steps_without_javascript(
    client: TestClient[Litestar],
) -> None:
    log_in_page(client, "anna.schmidt")
    start = client.get("/").text
    assert "Neu in ESS?" in start and 'href="/tour"' in start
    steps = [current_step(client.get("/tour", params={"step": n}).text) for n in (1, 2, 3, 4)]
    assert steps == [
        ("Schritt 1 von 4", "Ihr Urlaub"),
        ("Schritt 2 von 4", "Ihre Daten"),
        ("Schritt 3 von 4", "Passwort und Sicherheit"),
        ("Schritt 4 von 4", "Hilfe finden"),
    ]
    last = client.get("/tour", params={"step": 4}).text
    assert 'href="/tour?step=3"' in last and "/tour?step=5" not in last and "Tour abschließen" in last
    assert current_step(client.get("/tour", params={"step": 99}).text)[0] == "Schritt 4 von 4"

    refused = client.post("/tour/done", data={}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token: nothing set
    assert "Neu in ESS?" in client.get("/").text
    ended = client.post("/tour/done", data={"_csrf_token": csrf_of(last)}, follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == "/"
    assert "Neu in ESS?" not in client.get("/").text
    assert client.get("/tour").status_code == 200  # still there for whoever wants it again
