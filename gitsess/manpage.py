"""Man pages from the click command tree: `make man` (python -m gitsess.manpage man/man1).

One page for `gitsess`, the same for `git-session` (which `git session --help` opens), and
one per top-level command (`gitsess-show`, as git has `git-log`), a group's subcommands
inside its page. Everything comes from the commands' own help texts, options and
defaults, so the pages say what `--help` says; tests/test_manpages.py checks that the
committed pages are current. The pages carry the version and no date, so regenerating
changes them only when the commands change.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import click

from . import __version__

MANUAL = "gitsess manual"
PROGRAMS = ("gitsess", "git-session")

DESCRIPTION = """\
gitsess keeps AI coding agent sessions as git objects: each session has a branch for \
the code and a log of its conversation under refs/sessions/<id>, so sessions are \
shared, reviewed and kept with the code, through the remotes a project already has.

SESSION arguments take a session id, a unique id prefix of at least 4 characters, a \
title or a branch; where SESSION may be left out, it is the current session, the one \
whose branch is checked out. `gitsess COMMAND --help` shows a command's options; \
`man gitsess-COMMAND` shows the same as a page.

Exit status: 0 on success, 2 for bad input (an unknown session, a wrong option), 1 for \
any other failure. Errors are one line on stderr, starting with "gitsess:"."""

COMPLETION = """\
bash: eval "$(gitsess completion bash)" in ~/.bashrc (`git session <TAB>` completes \
too when git's own completion is loaded). zsh: eval "$(gitsess completion zsh)" in \
~/.zshrc. fish: gitsess completion fish | source in ~/.config/fish/config.fish."""


def pages(cli: click.Group) -> dict[str, str]:
    """File name -> roff text, for every page."""
    found = {f"{program}.1": main_page(cli, program) for program in PROGRAMS}
    root = click.Context(cli, info_name="gitsess", **cli.context_settings)
    for name in cli.list_commands(root):
        command = cli.get_command(root, name)
        if command is not None and not command.hidden:
            found[f"gitsess-{name}.1"] = command_page(root, name, command)
    return found


def main_page(cli: click.Group, program: str) -> str:
    shown = program.replace("-", " ")  # git-session is run as `git session`
    ctx = click.Context(cli, info_name=shown, **cli.context_settings)
    out = [header(program, str(cli.help or "").strip().splitlines()[0])]
    out += [".SH SYNOPSIS", f".B {roff(shown)}", roff("[OPTIONS] COMMAND [ARGS]...")]
    out += [".SH DESCRIPTION", *paragraphs(DESCRIPTION)]
    out += options(ctx, cli)
    out.append(".SH COMMANDS")
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        out += [".TP", f".B {roff(name)}", roff(command.get_short_help_str(limit=300))]
    out += [".SH SHELL COMPLETION", *paragraphs(COMPLETION)]
    out += [".SH SEE ALSO", see_also(cli, ctx, exclude=program)]
    return "\n".join(out) + "\n"


def command_page(root: click.Context, name: str, command: click.Command) -> str:
    ctx = click.Context(command, info_name=name, parent=root, **command.context_settings)
    out = [header(f"gitsess-{name}", command.get_short_help_str(limit=300))]
    out += [".SH SYNOPSIS", *synopsis(ctx, command)]
    out += [".SH DESCRIPTION", *paragraphs(help_text(command))]
    out += options(ctx, command)
    if isinstance(command, click.Group):
        out.append(".SH COMMANDS")
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=sub_name, parent=ctx, **sub.context_settings)
            out += [".SS " + roff(f"{name} {sub_name}"), *synopsis(sub_ctx, sub)]
            out += paragraphs(help_text(sub))
            out += option_list(sub_ctx, sub)
    out += [".SH SEE ALSO", r"\fBgitsess\fR(1), \fBgit\-session\fR(1)"]
    return "\n".join(out) + "\n"


def header(page: str, summary: str) -> str:
    title = roff(page.upper())
    return "\n".join(
        [
            f'.TH "{title}" "1" "" "gitsess {__version__}" "{MANUAL}"',
            ".SH NAME",
            f"{roff(page)} \\- {roff(summary.rstrip('.'))}",
        ]
    )


def synopsis(ctx: click.Context, command: click.Command) -> list[str]:
    pieces = " ".join(command.collect_usage_pieces(ctx))
    return [f".B {roff(ctx.command_path)}", roff(pieces)]


def help_text(command: click.Command) -> str:
    return inspect.cleandoc(command.help or command.short_help or "")


def options(ctx: click.Context, command: click.Command) -> list[str]:
    listed = option_list(ctx, command)
    return [".SH OPTIONS", *listed] if listed else []


def option_list(ctx: click.Context, command: click.Command) -> list[str]:
    out = []
    for param in command.params:
        if not isinstance(param, click.Option):  # arguments are in the synopsis
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, text = record
        out += [".TP", f".B {roff(names)}", roff(" ".join(text.split()))]
    # Not command.get_params(): click keeps the help option of the first context that
    # asked, which may not have had gitsess's -h.
    helps = sorted(command.get_help_option_names(ctx), key=len)
    if command.add_help_option and helps:
        out += [".TP", f".B {roff(', '.join(helps))}", "Show this message and exit."]
    return out


def paragraphs(text: str) -> list[str]:
    """click's help paragraphs as roff: `\\b` paragraphs keep their lines, as in --help."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            out += [".PP", ".nf", *(roff(line) for line in lines[1:]), ".fi"]
        elif block.strip():
            out += [".PP", roff(" ".join(block.split()))]
    return out


def see_also(cli: click.Group, ctx: click.Context, exclude: str) -> str:
    names = [p for p in PROGRAMS if p != exclude]
    names += [f"gitsess-{n}" for n in cli.list_commands(ctx) if not cli.commands[n].hidden]
    names.append("git")
    return ", ".join(f"\\fB{roff(n)}\\fR(1)" for n in names)


def roff(text: str) -> str:
    """``text`` safe in a roff line: backslashes and dashes escaped, no line that starts
    with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def write(folder: Path) -> list[Path]:
    """Write every page into ``folder``, removing pages of commands that are gone."""
    from .cli import cli

    folder.mkdir(parents=True, exist_ok=True)
    made = pages(cli)
    for stale in folder.glob("*.1"):
        if stale.name not in made:
            stale.unlink()
    written = []
    for name, text in made.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "man/man1")
    changed = write(target)
    print(f"{len(changed)} page(s) updated in {target}" if changed else f"{target} is current")
