"""Commands for the shell around gitsess: `completion` prints a completion script.

Completion itself is click's: the script runs `gitsess` with `_GITSESS_COMPLETE` set and
the words typed so far, and click answers from the command tree (commands, options, and
what the SESSION and REMOTE types offer, gitsess/completion.py). Nothing of this runs on
the hot paths: quick.py answers none of the completion calls (they have no arguments).
The bash script is click's with two changes: values are read as typed (a title with a
space completes as one word), and `git session <TAB>` completes too, through the
`_git_session` function git's own bash completion looks for.
"""

from __future__ import annotations

import re
from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    ShellComplete,
    add_completion_class,
    get_completion_class,
)

from .base import cli

PROG = "gitsess"
COMPLETE_VAR = "_GITSESS_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

BASH_SOURCE = """\
# gitsess completion for bash: eval "$(gitsess completion bash)" in ~/.bashrc
%(complete_func)s() {
    local IFS=$'\\n'
    local response completion type value
    response=$(env COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD=$COMP_CWORD \\
%(complete_var)s=bash_complete "$1" 2>/dev/null)
    for completion in $response; do
        IFS=',' read -r type value <<< "$completion"
        if [[ $type == 'dir' ]]; then
            COMPREPLY=()
            compopt -o dirnames
        elif [[ $type == 'file' ]]; then
            COMPREPLY=()
            compopt -o default
        elif [[ $type == 'plain' ]]; then
            COMPREPLY+=("$value")
        fi
    done
    return 0
}

# `git session <TAB>`: git's completion (if loaded) calls _git_session with its words.
_git_session() {
    local i=1
    while [[ $i -lt $cword && ${words[i]} != session ]]; do i=$((i + 1)); done
    local COMP_WORDS=(%(prog_name)s "${words[@]:i+1}")
    local COMP_CWORD=$((cword - i))
    %(complete_func)s %(prog_name)s
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""

# Characters a bash word may hold unescaped; anything else gets a backslash.
BASH_PLAIN = re.compile(r"[^\w@%+=:,./-]")


class GitsessBash(BashComplete):
    """click's bash completion, reading values as typed and completing `git session`."""

    source_template = BASH_SOURCE

    def format_completion(self, item: CompletionItem[Any]) -> str:
        value = str(item.value)
        if item.type == "plain":  # inserted as typed: "Dark mode" becomes Dark\ mode
            value = BASH_PLAIN.sub(lambda match: "\\" + match.group(0), value)
        return f"{item.type},{value}"


add_completion_class(GitsessBash, "bash")


def completion_script(shell: str) -> str:
    """The script that makes ``shell`` complete gitsess's commands, options and names."""
    found = get_completion_class(shell)
    if found is None:  # the choices are checked by click; this is a programming error
        raise click.BadParameter(f"no completion for {shell}")
    complete: ShellComplete = found(cli, {}, PROG, COMPLETE_VAR)
    return complete.source()


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash: eval "$(gitsess completion bash)"      in ~/.bashrc
    zsh:  eval "$(gitsess completion zsh)"       in ~/.zshrc
    fish: gitsess completion fish | source       in ~/.config/fish/config.fish

    SESSION arguments complete to session ids, branches and titles, --remote to
    the repository's remotes. In bash, `git session <TAB>` completes too once
    git's own completion is loaded.
    """
    click.echo(completion_script(shell), nl=False)
