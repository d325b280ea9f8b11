"""`gitsess tree`, tags and pins, run as a user would, with real repositories and remotes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .conftest import git, run_cli
from .test_terminal import at_terminal, forge


def sid_of(result: Any) -> str:
    assert result.code == 0, result.err
    return str(result.json()["id"])


def family(repo: Path) -> dict[str, str]:
    """root -> (a -> a2), (b); a2 checked out."""
    root = sid_of(run_cli(repo, "new", "Root work", "--no-checkout", "--json"))
    assert run_cli(repo, "record", root, "--role", "user", "first").code == 0
    assert run_cli(repo, "record", root, "--role", "user", "second").code == 0
    a = sid_of(run_cli(repo, "fork", root, "--title", "Try A", "--no-checkout", "--json"))
    assert run_cli(repo, "record", a, "--role", "user", "more").code == 0
    b = sid_of(run_cli(repo, "fork", root, "--title", "Try B", "--no-checkout", "--json"))
    a2 = sid_of(run_cli(repo, "fork", a, "--title", "Try A2", "--json"))
    other = sid_of(run_cli(repo, "new", "Unrelated", "--no-checkout", "--json"))
    return {"root": root, "a": a, "b": b, "a2": a2, "other": other}


def test_tree_of_the_current_family(repo: Path) -> None:
    ids = family(repo)
    result = run_cli(repo, "tree")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    shape = ["Root work  ", "├── Try A  ", "│   └── Try A2  ", "└── Try B  "]
    assert len(lines) == 4 and all(map(str.startswith, lines, shape)), lines
    assert "* current" in lines[2] and ids["a2"] in lines[2]
    second = json.loads(git(repo, "cat-file", "blob", f"refs/sessions/{ids['root']}:session.json"))
    assert second["id"] == ids["root"]
    root_log = git(repo, "cat-file", "-p", f"refs/sessions/{ids['root']}:log/00000000.jsonl")
    last_id = json.loads(root_log.splitlines()[-1])["id"]
    assert f"at {last_id[:8]}" in lines[1]
    assert "Unrelated" not in result.out
    everything = run_cli(repo, "tree", "--all").out
    assert "Unrelated" in everything and "Root work" in everything


def test_tree_json_nests_children(repo: Path) -> None:
    ids = family(repo)
    doc = run_cli(repo, "tree", ids["b"], "--json").json()
    assert doc["id"] == ids["root"] and doc["at"] is None and doc["entries"] == 2
    assert [c["id"] for c in doc["children"]] == [ids["a"], ids["b"]]
    a = doc["children"][0]
    assert a["entries"] == 3 and [c["id"] for c in a["children"]] == [ids["a2"]]
    assert a["children"][0]["current"] is True
    every = run_cli(repo, "tree", "--all", "--json").json()
    assert {node["id"] for node in every} == {ids["root"], ids["other"]}


def test_a_missing_parent_is_a_placeholder(repo: Path) -> None:
    ids = family(repo)
    assert run_cli(repo, "delete", ids["root"]).code == 0
    doc = run_cli(repo, "tree", ids["a"], "--json").json()
    assert doc == {**doc, "id": ids["root"], "title": None, "missing": True}
    assert {c["id"] for c in doc["children"]} == {ids["a"], ids["b"]}
    text = run_cli(repo, "tree", ids["a"]).out
    assert text.splitlines()[0].startswith(f"{ids['root']}  (not here")


def looping(repo: Path) -> tuple[str, str, str]:
    """Sessions whose fetched session.json names parents in a loop: x and y each other's,
    me itself."""
    x = sid_of(run_cli(repo, "new", "x", "--no-checkout", "--json"))
    y = sid_of(run_cli(repo, "new", "y", "--no-checkout", "--json"))
    forge(repo, x, {"parent": {"session": y, "entry": "e0"}}, [{"type": "event", "name": "n"}])
    forge(repo, y, {"parent": {"session": x, "entry": "e0"}}, [{"type": "event", "name": "n"}])
    me = sid_of(run_cli(repo, "new", "me", "--no-checkout", "--json"))
    forge(repo, me, {"parent": {"session": me, "entry": None}}, [])
    return x, y, me


def test_parents_that_loop_are_data(repo: Path) -> None:
    """A fetched session.json can name any parent: one naming itself, or two naming each
    other, draws as families of their own, never a hang."""
    x, y, me = looping(repo)
    result = run_cli(repo, "tree", "--all", "--json")
    assert result.code == 0, result.err
    assert {node["id"] for node in result.json()} >= {x, y, me}


def test_tree_at_40_columns_truncates(repo: Path) -> None:
    family(repo)
    screen = re.sub("\x1b\\[[0-9;]*m", "", at_terminal(repo, ["tree"], columns=40))
    lines = [line for line in screen.replace("\r\n", "\n").split("\n") if line]
    assert len(lines) == 4 and all(len(line) <= 40 for line in lines), lines
    assert "…" in screen


def test_tags_travel_and_merge_as_a_union(repo: Path, origin: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", str(origin))
    sid = sid_of(run_cli(repo, "new", "Tagged", "--no-checkout", "--json"))
    result = run_cli(repo, "tag", sid, "db", "needs-review", "db")
    assert (result.code, result.out) == (0, f"{sid} tags: db needs-review\n")
    for bad in ("", "two words", "-x", "a\x1bb", "x" * 65):
        refused = run_cli(repo, "tag", sid, "--", bad)
        assert refused.code == 2 and refused.err.startswith("gitsess: not a tag"), bad
    assert run_cli(repo, "push", sid).code == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert run_cli(clone, "fetch", "origin").code == 0
    assert run_cli(clone, "tag", sid, "theirs").code == 0
    assert run_cli(clone, "push", sid).code == 0
    assert run_cli(repo, "tag", sid, "mine", "--json").json()["tags"] == [
        "db",
        "needs-review",
        "mine",
    ]
    assert run_cli(repo, "fetch", "origin").code == 0
    meta = run_cli(repo, "show", sid, "--json").json()
    tags = meta.get("session", meta).get("tags")
    assert sorted(tags) == ["db", "mine", "needs-review", "theirs"]
    assert run_cli(repo, "untag", sid, "db", "--json").json()["tags"] == [
        t for t in tags if t != "db"
    ]


def test_pins_are_personal(repo: Path, origin: Path, tmp_path: Path) -> None:
    git(repo, "remote", "add", "origin", str(origin))
    sid = sid_of(run_cli(repo, "new", "Pinned one", "--no-checkout", "--json"))
    assert run_cli(repo, "pin", sid).out == f"Pinned {sid}.\n"
    assert run_cli(repo, "pin", "Pinned one").out == f"{sid} was already pinned.\n"
    assert git(repo, "config", "--get-all", "gitsess.pin") == sid
    assert run_cli(repo, "push", sid).code == 0
    objects = git(origin, "cat-file", "--batch-all-objects", "--batch-check")
    assert objects  # the session went; the pin is config, which no push carries
    assert "gitsess.pin" not in (origin / "config").read_text()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert git(clone, "config", "--get-all", "gitsess.pin", check=False) == ""
    assert run_cli(repo, "unpin", sid).out == f"Unpinned {sid}.\n"
    assert run_cli(repo, "unpin", sid).out == f"{sid} was not pinned.\n"
    assert run_cli(repo, "pin", "nope-nope").code == 2


def test_list_shows_pins_first_forks_and_filters_by_tag(repo: Path) -> None:
    ids = family(repo)
    assert run_cli(repo, "pin", ids["other"]).code == 0
    assert run_cli(repo, "tag", ids["b"], "keep", "db").code == 0
    assert run_cli(repo, "tag", ids["a"], "db").code == 0
    lines = run_cli(repo, "list").out.splitlines()
    assert lines[0].split() == ["id", "title", "entries", "updated", "branch", "forked", "from"]
    assert lines[1].startswith(f"^  {ids['other']}")  # pinned: first, marked ^
    row_a = next(line for line in lines if ids["a"] in line.split()[:2])
    assert row_a.rstrip().endswith(ids["root"])  # forked from
    tagged = run_cli(repo, "list", "--tag", "db", "--json").json()
    assert {row["id"] for row in tagged} == {ids["a"], ids["b"]}
    both = run_cli(repo, "list", "--tag", "db", "--tag", "keep").out
    assert ids["b"] in both and ids["a"] not in both
    assert run_cli(repo, "list", "--tag", "nope").out == "No sessions tagged nope.\n"


def _containing(roots: list[dict[str, Any]], session_id: str) -> dict[str, Any] | None:
    def holds(node: dict[str, Any]) -> bool:
        return node["id"] == session_id or any(holds(c) for c in node["children"])

    return next((root for root in roots if holds(root)), None)


def test_one_familys_tree_is_the_same_read_alone(repo: Path) -> None:
    """`tree SESSION` (and the viewer's family panel) reads only the family's sessions,
    found through the listing cache's names; it draws what the tree of every family
    draws for it: forks of forks, a deleted root, parents that loop, a self-parent."""
    ids = family(repo)
    x, y, me = looping(repo)
    child = sid_of(run_cli(repo, "fork", me, "--title", "of me", "--no-checkout", "--json"))
    for deleted in (False, True):
        if deleted:
            assert run_cli(repo, "delete", ids["root"]).code == 0
        every = run_cli(repo, "tree", "--all", "--json").json()
        for session_id in [*ids.values(), x, y, me, child]:
            if deleted and session_id == ids["root"]:
                continue
            alone = run_cli(repo, "tree", session_id, "--json")
            assert alone.code == 0, alone.err
            assert alone.json() == _containing(every, session_id), session_id
