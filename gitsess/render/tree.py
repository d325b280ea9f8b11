"""Fork families drawn as trees, one session a line."""

from __future__ import annotations

from typing import Any

from ..names import short_entry_id
from ..tree import Node
from .safe import visible
from .text import plural


def label_parts(node: Node) -> list[tuple[str, str]]:
    """(text, style) spans of one session's line."""
    if node.missing:
        return [(f"{node.id}", "yellow"), ("  (not here: deleted, or not fetched)", "dim")]
    parts = [(node.title or "", "bold"), (f"  {node.id}", "yellow")]
    if node.at:
        parts.append((f"  at {short_entry_id(node.at)}", "dim"))
    parts.append((f"  {plural(node.entries or 0, 'entry', 'entries')}", "dim"))
    if node.current:
        parts.append(("  * current", "bold green"))
    return parts


def draw(roots: list[Node]) -> Any:
    """A rich renderable: one tree per family, guides as `tree` draws them."""
    from rich.console import Group
    from rich.text import Text
    from rich.tree import Tree

    def label(node: Node) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for part, style in label_parts(node):
            text.append(visible(part), style=style)
        return text

    drawn = []
    for root in roots:
        tree = Tree(label(root), guide_style="dim")
        branches: dict[int, Tree] = {id(root): tree}
        for _, node in root.walk():
            for child in node.children:
                branches[id(child)] = branches[id(node)].add(label(child))
        drawn.append(tree)
    return Group(*drawn)
