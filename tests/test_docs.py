"""README.md and docs/*.md stay true: every link lands, every command they show exists.

The pages are read with markdown-it-py, as GitHub reads them: headings inside code
blocks are not headings, and anchors follow GitHub's slug rules. Commands are checked
against the click command tree through public click APIs only, so the check keeps
working however the command line is split into modules.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote

import click
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from gitsess.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 260
SHELL_FENCES = {"sh", "bash", "shell"}
# Answered by gitsess/quick.py before click is loaded (the git hooks' entry point), so
# not in the click tree; the docs name it when they explain what a hook runs.
OUTSIDE_CLICK = {"hook"}

_MD = MarkdownIt("commonmark").enable("table")


def _tokens(text: str) -> list[Token]:
    return _MD.parse(text)


def _inline_text(inline: Token) -> str:
    """A heading's text as GitHub slugs it: text and code spans, markup dropped."""
    children = inline.children or []
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


def slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor GitHub makes for the headings of ``text`` (repeats get -1, -2, ...)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    tokens = _tokens(text)
    for opening, inline in pairwise(tokens):
        if opening.type != "heading_open":
            continue
        base = slug(_inline_text(inline))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> Iterator[str]:
    """The target of every link and image of ``text``, code spans and blocks excluded."""
    for token in _tokens(text):
        for child in token.children or []:
            if child.type == "link_open":
                yield str(child.attrs["href"])
            elif child.type == "image":
                yield str(child.attrs["src"])


def link_problems(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the relative links of ``page``: a missing file or anchor."""
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file_part, _, anchor = unquote(target).partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        if not linked.is_relative_to(root.resolve()):
            problems.append(f"{page.name}: {target}: points outside the project")
        elif not linked.exists():
            problems.append(f"{page.name}: {target}: no such file")
        elif anchor and anchor not in anchors(linked.read_text(encoding="utf-8")):
            problems.append(f"{page.name}: {target}: no heading makes #{anchor}")
    return problems


def fenced_commands(text: str) -> Iterator[list[str]]:
    """The arguments of each `gitsess ...` (or `git session ...`) line of shell blocks."""
    for token in _tokens(text):
        language = (token.info.split() or [""])[0]
        if token.type != "fence" or language not in SHELL_FENCES:
            continue
        for line in token.content.replace("\\\n", " ").splitlines():
            words = shlex.split(line.removeprefix("$ "), comments=True)
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words.pop(0)  # FOO=1 gitsess ...
            if words[:1] == ["gitsess"]:
                yield words[1:]
            elif words[:2] == ["git", "session"]:
                yield words[2:]


def inline_commands(text: str) -> Iterator[list[str]]:
    """The words of each code span in prose that shows a gitsess command line.

    That is a span starting `gitsess` (or `git session`), or one starting with a command's
    name and naming an option, as the manual writes them: `push --all`, `new TITLE [--from
    REV]`.
    """
    commands = set(cli.list_commands(click.Context(cli))) if isinstance(cli, click.Group) else set()
    for token in _tokens(text):
        for child in token.children or []:
            if child.type != "code_inline":
                continue
            words = re.findall(r"[^\s\[\]()|]+", child.content)
            if words[:1] == ["gitsess"]:
                yield words[1:]
            elif words[:2] == ["git", "session"]:
                yield words[2:]
            elif words[:1] and words[0] in commands and any(map(_is_option, words)):
                yield words


def _option_names(command: click.Command, ctx: click.Context) -> set[str]:
    return {
        name
        for param in command.get_params(ctx)
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }


def _takes_value(command: click.Command, ctx: click.Context, name: str) -> bool:
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return not param.is_flag and not param.count
    return False


def _is_option(word: str) -> bool:
    return word.startswith("--") or re.fullmatch(r"-[A-Za-z]", word) is not None


def command_problems(words: list[str], strict_words: bool = True) -> list[str]:
    """What ``gitsess WORDS`` would trip on: an unknown command or option.

    ``strict_words``: a word where a subcommand belongs must be one (shell blocks);
    in prose a placeholder there (``gitsess COMMAND --help``, ``git session ...``) ends
    the check.
    """
    shown = "gitsess " + " ".join(words)
    command: click.Command = cli
    ctx = click.Context(cli, info_name="gitsess")
    rest = list(words)
    while isinstance(command, click.Group):
        while rest and _is_option(rest[0]):  # options of a group come before its subcommand
            name = rest.pop(0).split("=", 1)[0]
            if name not in _option_names(command, ctx):
                return [f"{shown}: no option {name} of `{ctx.command_path}`"]
            if _takes_value(command, ctx, name) and rest:
                rest.pop(0)
        if not rest:
            break
        name = rest.pop(0)
        sub = command.get_command(ctx, name)
        if sub is None:
            placeholder = re.fullmatch(r"[a-z][a-z-]*", name) is None  # COMMAND, ...
            if name in OUTSIDE_CLICK or (not strict_words and placeholder):
                return []
            return [f"{shown}: no command `{ctx.command_path} {name}`"]
        command, ctx = sub, click.Context(sub, parent=ctx, info_name=name)
    if command.context_settings.get("ignore_unknown_options"):
        return []  # `capture` hands its arguments on as they are
    known = _option_names(command, ctx)
    return [
        f"{shown}: no option {word.split('=', 1)[0]} of `{ctx.command_path}`"
        for word in rest
        if _is_option(word) and word.split("=", 1)[0] not in known
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert link_problems(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_command_in_a_shell_block_exists_with_its_options(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    problems = [p for words in fenced_commands(text) for p in command_problems(words)]
    assert problems == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_command_named_in_prose_exists_with_its_options(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    problems = [
        p for words in inline_commands(text) for p in command_problems(words, strict_words=False)
    ]
    assert problems == []


def test_every_page_and_anchor_the_code_names_exists() -> None:
    """Messages, help and comments that send a reader to the manual send them somewhere."""
    pointer = re.compile(r"\b(docs/[\w-]+\.md|README\.md(?=#))(?:#([\w-]+))?")
    sources = [
        path
        for folder in ("gitsess", "tests", "scripts", "hooks")  # bench/ holds made-up paths
        for path in sorted((ROOT / folder).rglob("*"))
        if path.is_file() and path.suffix in ("", ".py", ".sh", ".j2") and path != Path(__file__)
    ]
    named = {
        (path.relative_to(ROOT), match.group(1), match.group(2))
        for path in sources
        for match in pointer.finditer(path.read_text("utf-8"))
    }
    assert ("gitsess/model.py", "docs/format.md", None) in {(str(a), b, c) for a, b, c in named}
    for source, page, anchor in named:
        target = ROOT / page
        assert target.exists(), f"{source} names {page}"
        if anchor:
            assert anchor in anchors(target.read_text("utf-8")), f"{source} names {page}#{anchor}"


def test_the_pages_show_commands() -> None:
    """The checks above see the commands: a parser that found none would pass anything."""
    fenced = [words for page in PAGES for words in fenced_commands(page.read_text("utf-8"))]
    inline = [words for page in PAGES for words in inline_commands(page.read_text("utf-8"))]
    assert len(fenced) > 40 and len(inline) > 40
    assert ["fork", "k3f9", "--at", "<entry-id>"] in fenced


def test_the_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES
    text = "\n".join(lines)
    assert "make demo" in text and "make test" in text
    for page in PAGES[1:]:  # the README leads to every page of the manual
        assert f"(docs/{page.name})" in text, page.name


def test_github_anchor_slugs() -> None:
    assert slug("Repair: gitsess doctor") == "repair-gitsess-doctor"
    assert slug("How we know it doesn't lose data") == "how-we-know-it-doesnt-lose-data"
    assert slug("6. Merging two copies of one session") == "6-merging-two-copies-of-one-session"
    text = "# Input: `record --jsonl`\n\n## Setup\n\n## Setup\n\n```\n# not a heading\n```\n"
    assert anchors(text) == {"input-record---jsonl", "setup", "setup-1"}


def test_a_broken_link_or_anchor_is_caught(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#a-section) [ok](#page) [web](https://example.com/x#y)\n"
        "[gone](missing.md) [bad anchor](other.md#no-such-section) [here](#nowhere)\n"
        "[outside](../elsewhere.md) `[not a link](missing.md)`\n"
    )
    (tmp_path.parent / "elsewhere.md").write_text("# Elsewhere\n")
    assert link_problems(page, root=tmp_path) == [
        "page.md: missing.md: no such file",
        "page.md: other.md#no-such-section: no heading makes #no-such-section",
        "page.md: #nowhere: no heading makes #nowhere",
        "page.md: ../elsewhere.md: points outside the project",
    ]


def test_an_unknown_command_or_option_is_caught() -> None:
    text = (
        "```sh\n"
        "gitsess push --all --remote origin     # fine\n"
        "gitsess -C /repo hooks install --agent codex\n"
        "gitsess push --force                   # no such option\n"
        "gitsess hooks instal                   # no such command\n"
        "gitsess frobnicate\n"
        "gitsess export k3f9 -o k3f9.md -x\n"
        "git session list --al\n"
        "```\n"
    )
    problems = [p for words in fenced_commands(text) for p in command_problems(words)]
    assert problems == [
        "gitsess push --force: no option --force of `gitsess push`",
        "gitsess hooks instal: no command `gitsess hooks instal`",
        "gitsess frobnicate: no command `gitsess frobnicate`",
        "gitsess export k3f9 -o k3f9.md -x: no option -x of `gitsess export`",
        "gitsess list --al: no option --al of `gitsess list`",
    ]
    prose = (
        "Run `gitsess COMMAND --help`, `gitsess new TITLE [--from REV] [--frm X]`, `push"
        " --force`; `export DEPLOY_TOKEN=x` is no command line."
    )
    problems = [
        p for words in inline_commands(prose) for p in command_problems(words, strict_words=False)
    ]
    assert problems == [
        "gitsess new TITLE --from REV --frm X: no option --frm of `gitsess new`",
        "gitsess push --force: no option --force of `gitsess push`",
    ]
