"""Fork families: every session with the sessions forked from it, and theirs.

A fork names its source in `parent` (docs/format.md section 4). The tree is built from the
sessions listed here alone; a parent that is not here (deleted, or never fetched) becomes a
placeholder, so the family still hangs together. Built without recursion: a log is anyone's
data, and a fetched chain of parents may be long or loop back on itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .storage.log import Listed


class Node:
    """One session in a family (or a placeholder for a parent that is not here)."""

    __slots__ = ("at", "children", "current", "entries", "id", "missing", "title")

    def __init__(self, session_id: str, title: str | None, entries: int | None) -> None:
        self.id = session_id
        self.title = title
        self.entries = entries
        self.at: str | None = None  # the source's entry this session was forked after
        self.current = False
        self.missing = title is None
        self.children: list[Node] = []

    def as_json(self) -> dict[str, Any]:
        """The nested form of `tree --json` (iterative: a family may be deep)."""
        top = self._flat()
        stack = [(self, top)]
        while stack:
            node, out = stack.pop()
            for child in node.children:
                child_out = child._flat()
                out["children"].append(child_out)
                stack.append((child, child_out))
        return top

    def _flat(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "at": self.at,
            "entries": self.entries,
            "current": self.current,
            "children": [],
        }
        if self.missing:
            out["missing"] = True
        return out

    def walk(self) -> Iterable[tuple[int, Node]]:
        """(depth, node) for the family, parents before children, depth first."""
        stack = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))


def families(listed: Iterable[Listed], current: str | None = None) -> list[Node]:
    """Every family (its root), the most recently updated family first."""
    nodes: dict[str, Node] = {}
    updated: dict[str, str] = {}
    parent_of: dict[str, tuple[str, str | None]] = {}
    for row in listed:
        sid = str(row.meta.get("id", ""))
        node = nodes[sid] = Node(sid, str(row.meta.get("title", "")), row.count)
        node.current = sid == current
        updated[sid] = str(row.meta.get("updated", ""))
        parent = row.meta.get("parent")
        if isinstance(parent, dict) and isinstance(parent.get("session"), str):
            entry = parent.get("entry")
            parent_of[sid] = (parent["session"], entry if isinstance(entry, str) else None)
    roots: list[Node] = []
    for sid in sorted(nodes, key=lambda s: updated[s], reverse=True):
        node = nodes[sid]
        link = parent_of.get(sid)
        if link is None or _loops(sid, parent_of):
            roots.append(node)
            continue
        source, node.at = link
        if source not in nodes:  # deleted, or not fetched: a placeholder holds the family
            nodes[source] = Node(source, None, None)
            roots.append(nodes[source])
        nodes[source].children.append(node)
    for node in nodes.values():  # siblings oldest first, as they were forked
        node.children.sort(key=lambda n: updated.get(n.id, ""))
    return roots


def _loops(session_id: str, parent_of: dict[str, tuple[str, str | None]]) -> bool:
    """Whether following parents from ``session_id`` comes back to it (hostile data): the
    session then heads its own family instead of hanging in a loop."""
    seen = {session_id}
    at = parent_of.get(session_id)
    while at is not None:
        if at[0] in seen:
            return at[0] == session_id
        seen.add(at[0])
        at = parent_of.get(at[0])
    return False


def family_of(roots: list[Node], session_id: str) -> Node | None:
    for root in roots:
        if any(node.id == session_id for _, node in root.walk()):
            return root
    return None
