"""Markdown from sessions as HTML that is safe to put in the viewer's page.

Messages are written by agents and teammates: data, never markup the page obeys.

- Raw HTML in the Markdown is text (markdown-it's ``html`` option off): ``<script>``,
  ``<img onerror>`` and the like are shown, escaped, as typed.
- Links work only to ``http:``/``https:`` addresses and to anchors in the page (``#e-...``);
  any other destination (``javascript:``, ``data:``, ``vbscript:``, ``file:``, relative
  paths) is not made a link: the Markdown stays as text. Links that work open in a new tab
  with ``rel="noopener noreferrer nofollow"``.
- Images in Markdown are never loaded (a remote image tells its server who reads the
  session, and the page's CSP allows none): an ``http(s)`` one becomes a link named after
  its alt text. Images an agent attached to a message are content blocks, shown by
  ``entries`` from the data stored in the log.
- Rendering is bounded: markdown-it takes quadratic time on some inputs (50,000 ``[`` take
  seconds), so a text over ``ENTRY_LIMIT`` characters, or past a page's ``PAGE_BUDGET``, is
  shown as plain text instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from ..render.safe import visible

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

ENTRY_LIMIT = 20_000  # characters of one text rendered as Markdown
PAGE_BUDGET = 400_000  # characters rendered as Markdown in one answer
REL = "noopener noreferrer nofollow"

_parser: MarkdownIt | None = None
# What can make text more than paragraphs in CommonMark: inline markup, escapes, entities,
# links, HTML (shown as text, but escaped by markdown-it), block starts (headings, lists,
# quotes, rules, fences, tables, setext underlines) and indented code.
_MARKUP = re.compile(
    r"[*_`\[\]<>#!|~\\&\r\0]|^ *(?:[-+=>]|\d+[.)])|^(?: {4}|\t)| {2}$", re.MULTILINE
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def safe_link(url: str) -> bool:
    """Whether a (normalized) link destination may be a working link."""
    return url.lower().startswith(("http://", "https://")) or url.startswith("#")


def parser() -> MarkdownIt:
    global _parser
    if _parser is None:
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        md.validateLink = safe_link  # type: ignore[method-assign]
        md.add_render_rule("link_open", _link_open)
        md.add_render_rule("image", _image)
        _parser = md
    return _parser


class Budget:
    """How much Markdown one answer may still render."""

    def __init__(self, characters: int = PAGE_BUDGET) -> None:
        self.left = characters

    def take(self, size: int) -> bool:
        if size > ENTRY_LIMIT or size > self.left:
            return False
        self.left -= size
        return True


def render(text: str, budget: Budget) -> Markup:
    """``text`` as safe HTML: Markdown when the budget allows, else escaped plain text.
    Characters a terminal would act on are made visible first (render/safe.py), as in
    every other field of the page."""
    text = visible(text)
    if not _MARKUP.search(text):
        return prose(text)
    if not budget.take(len(text)):
        return Markup('<div class="plain">%s</div>') % text
    return Markup(parser().render(text))


def prose(text: str) -> Markup:
    """Text that holds nothing Markdown would act on, as markdown-it renders it (a
    paragraph per blank-line-separated block) without parsing it: most messages are such,
    and a 1,000-entry page renders in a fraction of the time."""
    blocks = [block.strip() for block in _BLANK_LINE.split(text)]
    return Markup("").join(Markup("<p>%s</p>\n") % block for block in blocks if block)


def _link_open(
    renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if not href.startswith("#"):
        token.attrSet("rel", REL)
        token.attrSet("target", "_blank")
    return str(renderer.renderToken(tokens, idx, options, env))


def _image(
    renderer: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env) or "image"
    label = escape(f"image: {alt}")
    if src.lower().startswith(("http://", "https://")):
        return str(
            Markup('<a class="md-image" href="%s" rel="%s" target="_blank">%s</a>')
            % (src, REL, label)
        )
    return str(Markup('<span class="md-image">%s</span>') % label)
