"""Every "Help for this page" and "What happens next" link in a template names an article ESS ships."""

from __future__ import annotations

import re
from pathlib import Path

from ess.adapters.help_content import shipped_articles

TEMPLATES = Path(__file__).resolve().parents[2] / "ess" / "templates"
# Slugs as the templates write them: help_link("..."), {"section": "slug"} maps and slug='...' in _guide.html.
SLUG_IN_TEMPLATE = re.compile(r"""help_link\("([a-z0-9-]+)"\)|: "([a-z0-9-]+-[a-z0-9-]+)"|slug='([a-z0-9-]+)'""")


def test_guided_help_links_name_shipped_articles() -> None:
    shipped = {article.slug for article in shipped_articles()}
    named = {
        slug
        for path in TEMPLATES.glob("*.html")
        for match in SLUG_IN_TEMPLATE.finditer(path.read_text(encoding="utf-8"))
        for slug in match.groups()
        if slug
    }
    assert {"urlaub-beantragen", "aenderungsantrag-status", "adresse-aendern", "genehmigung-urlaub"} <= named
    assert named <= shipped, named - shipped


def test_the_shipped_articles_cover_every_category_in_both_languages() -> None:
    articles = shipped_articles()
    assert len(articles) >= 25
    assert {a.category.value for a in articles} == {"leave", "personal", "account", "general"}
    assert all(set(a.texts) == {"de", "en"} for a in articles)
    assert len({a.slug for a in articles}) == len(articles)
