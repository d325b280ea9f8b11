"""Shell completion: `gitsess completion bash|zsh|fish`, run in the real shells.

The completion call is what the scripts make: `gitsess` with `_GITSESS_COMPLETE` and the
words typed so far in the environment (as click's own tests do); then each script is
sourced in its shell and asked, and one bash in tmux has TAB pressed at a prompt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import BIN_DIR, git, gitsess_exe, run_cli

# Titles starting with letters no session id has (ids never hold i, l, o, u), so that
# what a prefix completes to never depends on the random ids.
TITLE = "Ultraviolet theme"
OTHER = "ultra light mode"
GIT_COMPLETION = Path("/usr/share/bash-completion/completions/git")


@pytest.fixture
def sessions(repo: Path) -> dict[str, dict]:
    """Two sessions (the second checked out) and a remote, made with the real command."""
    made = {}
    for title, extra in ((OTHER, ["--no-checkout"]), (TITLE, [])):
        result = run_cli(repo, "new", title, "--json", *extra)
        assert result.code == 0, result.err
        made[title] = result.json()
    git(repo, "remote", "add", "origin", str(repo.parent / "origin.git"))
    git(repo, "remote", "add", "upstream", str(repo.parent / "upstream.git"))
    return made


def complete(cwd: Path, shell: str, line: str) -> subprocess.CompletedProcess[str]:
    """What the bash or zsh script asks gitsess for the last word of ``line`` (empty: a
    new word)."""
    words = line.split(" ")
    env = {
        **os.environ,
        "_GITSESS_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    return subprocess.run(
        [gitsess_exe()], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def values(cwd: Path, line: str) -> list[str]:
    done = complete(cwd, "bash", line)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [row.split(",", 1)[1] for row in done.stdout.splitlines() if row]


def test_session_arguments_complete_to_ids_branches_and_titles(
    repo: Path, sessions: dict[str, dict]
) -> None:
    ours, other = sessions[TITLE], sessions[OTHER]
    offered = values(repo, "gitsess show ")
    # Newest first: ids, then branches, then titles (bash gets spaces escaped).
    assert offered == [
        ours["id"],
        other["id"],
        ours["branch"],
        other["branch"],
        "Ultraviolet\\ theme",
        "ultra\\ light\\ mode",
    ]
    assert values(repo, f"gitsess show {ours['id'][:3]}") == [ours["id"]]
    assert values(repo, f"gitsess export {ours['branch'][:-4]}") == [ours["branch"]]
    assert values(repo, "gitsess fork ULTRAV") == ["Ultraviolet\\ theme"]  # any case
    assert values(repo, "gitsess show Ul") == ["Ultraviolet\\ theme", "ultra\\ light\\ mode"]
    assert values(repo, "gitsess show nothing-like-it") == []
    # -C PATH: the sessions of that repository, from anywhere.
    assert values(repo.parent, f"gitsess -C {repo} show Ultrav") == ["Ultraviolet\\ theme"]


def test_remotes_complete_for_push_and_fetch(repo: Path, sessions: dict[str, dict]) -> None:
    assert values(repo, "gitsess push --remote ") == ["origin", "upstream"]
    assert values(repo, "gitsess push -r up") == ["upstream"]
    assert values(repo, "gitsess fetch o") == ["origin"]


def test_commands_and_options_complete(repo: Path) -> None:
    assert values(repo, "gitsess sh") == ["show"]
    assert "completion" in values(repo, "gitsess ")
    assert values(repo, "gitsess completion ") == ["bash", "zsh", "fish"]
    assert values(repo, "gitsess hooks uninstall --a") == ["--agent", "--all"]


def test_completion_outside_a_repository_offers_nothing_and_says_nothing(
    tmp_path: Path, repo: Path, sessions: dict[str, dict]
) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    assert values(outside, "gitsess show ") == []
    assert values(outside, "gitsess push --remote ") == []
    assert values(outside, f"gitsess -C {outside / 'missing'} show ") == []
    # A session that cannot be read is skipped quietly; the others are still offered.
    blob = git(repo, "hash-object", "-w", "--stdin", input="{broken")
    tree = git(repo, "mktree", input=f"100644 blob {blob}\tsession.json\n")
    broken = git(repo, "commit-tree", tree, "-m", "x")
    git(repo, "update-ref", "refs/sessions/00000000zz", broken)
    assert sessions[TITLE]["id"] in values(repo, "gitsess show ")
    git(repo, "update-ref", "-d", "refs/sessions/00000000zz")


def test_completion_command_prints_each_script(repo: Path) -> None:
    for shell, marker in (
        ("bash", "complete -o nosort -F _gitsess_completion gitsess"),
        ("zsh", "compdef _gitsess_completion gitsess"),
        ("fish", "complete --no-files --command gitsess"),
    ):
        done = run_cli(repo, "completion", shell)
        assert done.code == 0 and marker in done.out and "_GITSESS_COMPLETE" in done.out
    wrong = run_cli(repo, "completion", "tcsh")
    assert wrong.code == 2 and "tcsh" in wrong.err and "Traceback" not in wrong.err


def shell_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ['PATH']}"}


def run_bash(cwd: Path, script: str) -> list[str]:
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=cwd,
        env=shell_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.splitlines()


def test_bash_script_completes_sessions_as_whole_words(
    repo: Path, sessions: dict[str, dict]
) -> None:
    asked = """
eval "$(gitsess completion bash)"
COMP_WORDS=(gitsess show Ultrav); COMP_CWORD=2
_gitsess_completion gitsess
printf '<%s>\\n' "${COMPREPLY[@]}"
COMPREPLY=(); COMP_WORDS=(gitsess show Ultraviolet\\ t); COMP_CWORD=2
_gitsess_completion gitsess
printf '<%s>\\n' "${COMPREPLY[@]}"
"""
    # One word, escaped as it must be typed, also when the space is already there.
    assert run_bash(repo, asked) == ["<Ultraviolet\\ theme>", "<Ultraviolet\\ theme>"]


@pytest.mark.skipif(not GIT_COMPLETION.exists(), reason="git's bash completion not installed")
def test_git_session_completes_in_bash_through_gits_completion(
    repo: Path, sessions: dict[str, dict]
) -> None:
    asked = f"""
eval "$(gitsess completion bash)"
source {GIT_COMPLETION}
COMP_LINE="git session show Ultrav"; COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=(git session show Ultrav); COMP_CWORD=3
__git_wrap__git_main
printf '<%s>\\n' "${{COMPREPLY[@]}}"
"""
    assert run_bash(repo, asked) == ["<Ultraviolet\\ theme>"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_zsh_script_offers_sessions_with_their_titles(
    repo: Path, sessions: dict[str, dict]
) -> None:
    # Outside a completion widget compadd and _describe do not run: stand-ins print
    # what the script hands them.
    asked = """
compdef() { : }
_describe() { print -rl -- ${(P)3} }
compadd() { print -rl -- ${(P)${@[-1]}} }
eval "$(gitsess completion zsh)"
words=(gitsess show Ultrav); CURRENT=3
_gitsess_completion
"""
    done = subprocess.run(
        ["zsh", "-f", "-c", asked],
        cwd=repo,
        env=shell_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines() == [f"Ultraviolet theme:title of {sessions[TITLE]['id']}"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
def test_fish_script_offers_sessions(repo: Path, sessions: dict[str, dict]) -> None:
    asked = "gitsess completion fish | source; complete -C 'gitsess show Ultrav'"
    done = subprocess.run(
        ["fish", "--no-config", "-c", asked],
        cwd=repo,
        env=shell_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split("\t")[0] == "Ultraviolet theme"


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux not installed")
    socket = ["tmux", "-L", f"gitsess-test-{uuid.uuid4().hex[:12]}"]
    yield socket
    subprocess.run([*socket, "kill-server"], capture_output=True, check=False)


def screen(tmux: list[str]) -> str:
    return subprocess.run(
        [*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, check=True
    ).stdout


def wait_for(tmux: list[str], wanted: str) -> str:
    """The screen once it shows ``wanted`` (a generous bound: a slow machine is no failure)."""
    for _ in range(600):
        shown = screen(tmux)
        if wanted in shown:
            return shown
        subprocess.run(["sleep", "0.1"], check=True)
    raise AssertionError(f"{wanted!r} never appeared:\n{shown}")


def test_tab_in_a_real_bash_completes_a_session(
    repo: Path, sessions: dict[str, dict], tmux: list[str]
) -> None:
    env = shell_env()
    start = [*tmux, "new-session", "-d", "-s", "t", "-x", "120", "-y", "30", "-c", str(repo)]
    for name in ("PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM"):
        start += ["-e", f"{name}={env[name]}"]
    subprocess.run([*start, "bash --norc --noprofile"], check=True)
    subprocess.run(
        [*tmux, "send-keys", "-t", "t", "eval \"$(gitsess completion bash)\"; PS1='rea''dy> '"],
        check=True,
    )
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
    wait_for(tmux, "ready>")  # the prompt, once the script is loaded
    ours = sessions[TITLE]["id"]
    subprocess.run([*tmux, "send-keys", "-t", "t", f"gitsess show {ours[:4]}", "Tab"], check=True)
    wait_for(tmux, f"gitsess show {ours}")  # the one match, inserted
    subprocess.run([*tmux, "send-keys", "-t", "t", "C-u", "gitsess show Ultrav", "Tab"], check=True)
    wait_for(tmux, "gitsess show Ultraviolet\\ theme")
    subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
    shown = wait_for(tmux, TITLE)  # `show` ran on the session the title names
    assert "Traceback" not in shown and "gitsess:" not in shown


def test_fork_at_completes_the_sessions_entry_ids(repo: Path, sessions: dict[str, dict]) -> None:
    other = sessions[OTHER]["id"]
    for role, text in (("user", "first prompt"), ("assistant", "an answer")):
        assert run_cli(repo, "record", other, "--role", role, text).code == 0
    ids = [e["id"] for e in run_cli(repo, "show", other, "--json").json()["entries"]]
    assert values(repo, f"gitsess fork {other} --at ") == ids[::-1]  # newest first
    assert values(repo, f"gitsess fork {other} --at {ids[0][:6]}") == [ids[0]]
    done = complete(repo, "zsh", f"gitsess fork {other} --at {ids[0][:6]}")
    assert done.stdout.splitlines() == ["plain", ids[0], "user: first prompt"]
    # The current session has no entries: nothing offered, nothing said.
    assert values(repo, "gitsess fork --at ") == []
