"""Markdown to safe HTML for help articles: markdown-it-py (CommonMark, raw HTML off) and then nh3 (the Ammonia
sanitiser) with a short allow-list, so that nothing an editor types can run in a reader's browser."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

ALLOWED_TAGS: Final = frozenset(
    {"p", "br", "hr", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "a"}
    | {"table", "thead", "tbody", "tr", "th", "td"}
)
ALLOWED_ATTRIBUTES: Final = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})


class SafeMarkdown:
    """Renders an article body. Raw HTML in the Markdown is shown as text, not interpreted (html=False); whatever
    the Markdown itself produces passes nh3 with only the tags above and http(s)/mailto links."""

    def __init__(self) -> None:
        self._parser: MarkdownIt | None = None

    def _markdown(self) -> MarkdownIt:
        # Made on the first article, not at start: markdown-it-py is a noticeable part of a cold start.
        if self._parser is None:
            from markdown_it import MarkdownIt  # noqa: PLC0415

            self._parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
        return self._parser

    def __call__(self, markdown: str) -> str:
        html = self._markdown().render(markdown)
        return nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
            url_schemes=set(URL_SCHEMES),
            link_rel="noopener noreferrer",
        )
