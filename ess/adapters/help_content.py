"""The help articles ESS ships, read from `data/help_articles.toml` (German and English per article)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Final

from ess.domain.help.articles import SeedArticle
from ess.domain.help.model import LANGUAGES, ArticleText, Category

ARTICLES_FILE: Final = Path(__file__).resolve().parent / "data" / "help_articles.toml"


def shipped_articles(path: Path = ARTICLES_FILE) -> list[SeedArticle]:
    """Every shipped article; each has both languages (a missing one is an error in the file)."""
    with path.open("rb") as source:
        document = tomllib.load(source)
    seeds: list[SeedArticle] = []
    for entry in document["article"]:
        texts = {
            lang: ArticleText(
                title=entry[lang]["title"].strip(),
                body=entry[lang]["body"].strip(),
                keywords=entry[lang].get("keywords", "").strip(),
            )
            for lang in LANGUAGES
        }
        seeds.append(SeedArticle(slug=entry["slug"], category=Category(entry["category"]), texts=texts))
    return seeds
