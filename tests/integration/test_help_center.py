"""The help center on real databases: personal answers per role (only one's own data), editing rights per topic,
drafts, versions and audit, stored XSS, feedback and missed searches counted without anybody's id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import text, update

from ess.adapters.sql.tables import HelpFeedbackRow, HelpMissedQueryRow, LocalAccountRow
from ess.domain.auth.model import Principal
from ess.domain.errors import InvalidInput, NotFound, PermissionDenied
from ess.domain.help.articles import SaveArticle, article_history, publish_article, read_article, save_article
from ess.domain.help.feedback import give_feedback, insights
from ess.domain.help.model import ArticleText, Category, Result, ResultKind
from ess.domain.help.search import search
from ess.domain.hr.model import Role
from ess.domain.profile.changing import ChangeProfile, change_profile
from ess.domain.vacation.balance import balance
from ess.domain.vacation.decisions import decide
from ess.domain.vacation.requests import RequestLeave, request_leave
from tests.help_world import HelpWorld, help_world

__all__ = ["help_world"]


async def answers(world: HelpWorld, query: str, principal: Principal | None, lang: str = "de") -> dict[str, Result]:
    found = await search(query, lang, principal=principal, deps=world.deps)
    return {r.key: r for r in found.results if r.kind is ResultKind.ANSWER}


async def rows(world: HelpWorld, sql: str) -> list[tuple[object, ...]]:
    async with world.container.new_uow() as uow:
        session = getattr(uow, "session")  # noqa: B009 - the SQL unit of work's session
        return [tuple(row) for row in await session.execute(text(sql))]


async def test_each_role_gets_its_own_balance_next_leave_and_manager(help_world: HelpWorld) -> None:
    anna = await help_world.principal("anna.schmidt")
    markus = await help_world.principal("markus.weber")
    hanna = await help_world.principal("hanna.berger", Role.HR)
    ivan = await help_world.principal("ivan.petrovic", Role.HELPDESK)
    vacation = help_world.deps.vacation
    leave = await request_leave(RequestLeave(anna, date(2026, 12, 1), date(2026, 12, 4)), deps=vacation)
    assert leave.id is not None
    await decide(leave.id, approve=True, comment="", principal=markus, deps=vacation)

    for person in (anna, markus, hanna, ivan):
        found = await answers(help_world, "Resturlaub", person)
        own = await balance(person, help_world.clock.today(), deps=vacation)
        assert found["balance"].facts["remaining"] == own.remaining, person.login
    assert (await answers(help_world, "Resturlaub", anna))["balance"].facts["remaining"] == Decimal(26)
    assert (await answers(help_world, "Resturlaub", markus))["balance"].facts["remaining"] == Decimal(30)

    anna_next = (await answers(help_world, "nächster Urlaub", anna))["next_leave"].facts
    assert (anna_next["start"], anna_next["end"], anna_next["days"]) == (date(2026, 12, 1), date(2026, 12, 4), 4)
    assert (await answers(help_world, "nächster Urlaub", hanna))["next_leave"].facts["start"] is None

    assert (await answers(help_world, "wer ist mein Vorgesetzter", anna))["manager"].facts["name"] == "Markus Weber"
    markus_manager = (await answers(help_world, "wer ist mein Vorgesetzter", markus))["manager"].facts["name"]
    assert markus_manager not in {None, "Markus Weber"}


async def test_the_balance_answer_reads_in_both_languages_with_what_lapses(help_world: HelpWorld) -> None:
    anna = await help_world.principal("anna.schmidt")
    german = await answers(help_world, "wie viele Urlaubstage habe ich noch", anna)
    english = await answers(help_world, "how many days of leave do I have left", anna, lang="en")
    assert german["balance"].facts == english["balance"].facts
    assert german["balance"].facts["remaining"] == Decimal(30)


async def test_open_change_requests_are_the_callers_own(help_world: HelpWorld) -> None:
    anna = await help_world.principal("anna.schmidt")
    julia = await help_world.principal("julia.schneider")
    await change_profile(
        ChangeProfile(principal=anna, inputs={"first_name": "Anna", "last_name": "Schmidt-Weber"}),
        deps=help_world.deps.profile,
    )
    mine = (await answers(help_world, "Änderungsantrag Status", anna))["change_requests"]
    assert [(i["field"], i["status"]) for i in mine.items] == [("legal_name", "pending")]
    theirs = (await answers(help_world, "Änderungsantrag Status", julia))["change_requests"]
    assert list(theirs.items) == []


async def test_without_login_there_are_no_personal_answers_only_public_actions(help_world: HelpWorld) -> None:
    found = await search(
        "Resturlaub Vorgesetzter Passwort vergessen Adresse", "de", principal=None, deps=help_world.deps
    )
    kinds = {(r.kind, r.key) for r in found.results}
    assert not any(kind is ResultKind.ANSWER for kind, _ in kinds)
    assert (ResultKind.ACTION, "forgot_password") in kinds
    assert (ResultKind.ACTION, "change_address") not in kinds


async def test_the_team_action_is_offered_to_managers_only(help_world: HelpWorld) -> None:
    anna = await help_world.principal("anna.schmidt")
    markus = await help_world.principal("markus.weber")
    for person, offered in ((markus, True), (anna, False)):
        found = await search("Urlaub genehmigen", "de", principal=person, deps=help_world.deps)
        assert ("team_leave" in {r.key for r in found.results if r.kind is ResultKind.ACTION}) is offered


async def test_somebody_without_an_hr_record_gets_no_answers_and_no_error(help_world: HelpWorld) -> None:
    admin = Principal("admin", "Admin", frozenset({Role.ADMIN}), None)
    assert await answers(help_world, "Resturlaub Vorgesetzter", admin) == {}


class Elements(HTMLParser):
    """What a browser would make of the HTML: its tags, attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text += data


def _save(who: Principal, slug: str, category: Category, body: str, *, publish: bool = True) -> SaveArticle:
    text_de = ArticleText(f"Titel {slug}", body, "Parkplatz Tiefgarage")
    return SaveArticle(who, slug, category, date(2027, 6, 1), {"de": text_de}, publish=publish)


async def test_hr_edits_hr_topics_it_edits_account_topics_both_general(help_world: HelpWorld) -> None:
    hanna = await help_world.principal("hanna.berger", Role.HR)
    ivan = await help_world.principal("ivan.petrovic", Role.HELPDESK)
    anna = await help_world.principal("anna.schmidt")
    deps = help_world.deps
    await save_article(_save(hanna, "parkplatz", Category.GENERAL, "Text"), deps=deps)
    await save_article(_save(ivan, "parkplatz", Category.GENERAL, "Text, ergänzt"), deps=deps)
    with pytest.raises(PermissionDenied):
        await save_article(_save(hanna, "passwort-vergessen", Category.ACCOUNT, "anders"), deps=deps)
    with pytest.raises(PermissionDenied):  # nor by moving it into a topic HR may edit
        await save_article(_save(hanna, "passwort-vergessen", Category.LEAVE, "anders"), deps=deps)
    with pytest.raises(PermissionDenied):
        await save_article(_save(ivan, "halbe-tage", Category.LEAVE, "anders"), deps=deps)
    with pytest.raises(PermissionDenied):
        await save_article(_save(anna, "parkplatz", Category.GENERAL, "meins"), deps=deps)
    with pytest.raises(PermissionDenied):
        await publish_article(anna, "parkplatz", deps=deps)
    with pytest.raises(PermissionDenied):
        await insights(anna, deps=deps)
    assert (await read_article("passwort-vergessen", "de", principal=None, deps=deps)).version.version == 1
    history = await article_history(ivan, "parkplatz", deps=deps)
    assert [(v.version, v.created_by) for v in history.versions] == [(1, "hanna.berger"), (2, "ivan.petrovic")]
    audit = await rows(help_world, "SELECT actor, action, outcome, target FROM audit_events WHERE action LIKE 'help.%'")
    assert ("hanna.berger", "help.article_published", "success", "parkplatz") in audit
    assert ("hanna.berger", "help.article_save", "denied", "passwort-vergessen") in audit
    assert ("anna.schmidt", "help.article_publish", "denied", "parkplatz") in audit


async def test_a_draft_is_seen_by_its_editors_only_until_it_is_published(help_world: HelpWorld) -> None:
    hanna = await help_world.principal("hanna.berger", Role.HR)
    anna = await help_world.principal("anna.schmidt")
    deps = help_world.deps
    await save_article(_save(hanna, "dienstwagen", Category.GENERAL, "Der Dienstwagen", publish=False), deps=deps)
    with pytest.raises(NotFound):
        await read_article("dienstwagen", "de", principal=anna, deps=deps)
    assert (await read_article("dienstwagen", "de", principal=hanna, deps=deps)).version.published_at is None
    assert "article:dienstwagen" not in await help_world.keys("Dienstwagen")
    assert [a.slug for a in (await insights(hanna, deps=deps)).drafts] == ["dienstwagen"]

    await publish_article(hanna, "dienstwagen", deps=deps)
    assert (await read_article("dienstwagen", "de", principal=anna, deps=deps)).version.version == 1
    assert (await help_world.keys("Dienstwagen"))[0] == "article:dienstwagen"
    # A new draft leaves the published text in place until it is published in turn.
    await save_article(_save(hanna, "dienstwagen", Category.GENERAL, "Der neue Dienstwagen", publish=False), deps=deps)
    shown = await read_article("dienstwagen", "de", principal=anna, deps=deps)
    assert (shown.version.version, shown.version.body) == (1, "Der Dienstwagen")


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert('xss')</script>",
        '<img src=x onerror="alert(1)">',
        "[klick](javascript:alert(1))",
        '<a href="javascript:alert(1)">klick</a>',
        "<iframe src='https://evil.example'></iframe>",
        '[x](https://ok.example "t" onmouseover="alert(1)")',
    ],
)
async def test_stored_markup_is_never_executable(help_world: HelpWorld, attack: str) -> None:
    hanna = await help_world.principal("hanna.berger", Role.HR)
    await save_article(_save(hanna, "angriff", Category.LEAVE, f"Vorher {attack} nachher"), deps=help_world.deps)
    html = (await read_article("angriff", "de", principal=None, deps=help_world.deps)).html
    elements = Elements()
    elements.feed(html)
    assert elements.tags <= {"p", "a"}, html
    assert not any(name.startswith("on") for name, _ in elements.attributes), html
    assert not any(value.strip().lower().startswith("javascript") for _, value in elements.attributes), html
    assert "Vorher" in elements.text and "nachher" in elements.text


async def test_company_values_from_the_configuration_appear_in_articles(help_world: HelpWorld) -> None:
    view = await read_article("kontakt-hr-it", "de", principal=None, deps=help_world.deps)
    settings = help_world.container.settings
    assert settings.company.hr_contact.email in view.html
    assert settings.company.it_contact.name in view.html
    assert "{hr_email}" not in view.html


async def test_feedback_and_missed_searches_are_counted_without_anybodys_id(help_world: HelpWorld) -> None:
    deps = help_world.deps
    hanna = await help_world.principal("hanna.berger", Role.HR)
    await give_feedback("article", "halbe-tage", helpful=True, deps=deps)
    await give_feedback("article", "halbe-tage", helpful=False, comment="Was ist mit Teilzeit?", deps=deps)
    await give_feedback("answer", "balance", helpful=True, deps=deps)
    with pytest.raises(InvalidInput):
        await give_feedback("article", "gibt-es-nicht", helpful=True, deps=deps)
    for _ in range(2):
        assert (await search("Dienstfahrrad Leasing", "de", principal=hanna, deps=deps)).results == ()
    found = await insights(hanna, deps=deps)
    counts = {(f.kind, f.key): (f.helpful, f.not_helpful, f.comments) for f in found.feedback}
    assert counts[("article", "halbe-tage")] == (1, 1, ("Was ist mit Teilzeit?",))
    assert counts[("answer", "balance")] == (1, 0, ())
    assert [(m.query, m.count) for m in found.missed] == [("dienstfahrrad leasing", 2)]
    # BetrVG §87(1) no. 6: nothing that could name who voted or searched is stored.
    assert set(HelpFeedbackRow.__table__.columns.keys()) == {"id", "kind", "key", "helpful", "comment", "created_at"}
    assert set(HelpMissedQueryRow.__table__.columns.keys()) == {"id", "query", "lang", "count", "last_seen"}
    assert "hanna" not in str(await rows(help_world, "SELECT * FROM help_missed_queries"))


async def test_an_overdue_review_is_flagged_to_the_editors(help_world: HelpWorld) -> None:
    hanna = await help_world.principal("hanna.berger", Role.HR)
    assert (await insights(hanna, deps=help_world.deps)).overdue == []
    help_world.clock.advance(timedelta(days=400))
    overdue = {a.slug for a in (await insights(hanna, deps=help_world.deps)).overdue}
    assert "halbe-tage" in overdue and "passwort-vergessen" not in overdue  # an IT article is IT's to review
    assert (await read_article("halbe-tage", "de", principal=hanna, deps=help_world.deps)).overdue


async def test_the_password_expiry_answer_is_the_callers_own(help_world: HelpWorld) -> None:
    anna = await help_world.principal("anna.schmidt")
    markus = await help_world.principal("markus.weber")
    async with help_world.container.new_uow() as uow:
        session = getattr(uow, "session")  # noqa: B009 - the SQL unit of work's session
        await session.execute(
            update(LocalAccountRow)
            .where(LocalAccountRow.login == "anna.schmidt")
            .values(password_expires_at=datetime(2026, 12, 24, 12, 0, tzinfo=UTC))
        )
        await uow.commit()
    mine = (await answers(help_world, "wann läuft mein Passwort ab", anna))["password_expiry"]
    assert mine.facts["expires_on"] == date(2026, 12, 24)
    theirs = (await answers(help_world, "when does my password expire", markus, lang="en"))["password_expiry"]
    assert theirs.facts["expires_on"] is None
