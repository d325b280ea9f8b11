"""The files a conversation read and modified, from the tool calls of every agent gitsess
imports, as gitsess stores them (docs/agents.md):

- Claude Code: ``Read`` (``file_path``), ``Write``/``Edit``/``MultiEdit`` (``file_path``),
  ``NotebookEdit`` (``notebook_path``), ``Bash`` (``command``).
- Codex: ``apply_patch`` (the patch text, or ``{"input": patch}``), ``shell`` (``command``
  as a list, ``["bash", "-lc", script]``), ``exec_command`` (``cmd``), ``local_shell``
  (``{"type": "exec", "command": [...]}``).
- Gemini CLI: ``read_file``/``read_many_files`` (``file_path``, ``absolute_path``,
  ``paths``), ``write_file``/``replace``/``edit`` (``file_path``), ``run_shell_command``.
- Kimi: ``ReadFile``/``WriteFile``/``StrReplaceFile`` (``path``), ``Shell``; its samples
  also use ``Read``/``Write`` with ``path``.

Shell commands are read for what they plainly do: ``cat``, ``head``, ``tail``, ``nl``,
``sed -n`` read their files; a ``>``/``>>`` redirection, ``tee``, ``sed -i``, ``touch``,
``rm``, ``mv`` and ``cp`` modify theirs. A call whose result is an error touched nothing.
Paths under the agent's working directory are given relative to it.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, NamedTuple

Entry = dict[str, Any]

READERS = {"read", "read_file", "readfile", "read_many_files", "view", "notebookread"}
WRITERS = {
    "write",
    "edit",
    "multiedit",
    "notebookedit",
    "write_file",
    "writefile",
    "replace",
    "edit_file",
    "strreplacefile",
    "str_replace_file",
}
SHELLS = {"bash", "shell", "exec_command", "run_shell_command", "local_shell", "container.exec"}
PATCHERS = {"apply_patch"}
PATH_KEYS = ("file_path", "absolute_path", "notebook_path", "path", "filename", "file")
LIST_KEYS = ("paths", "file_paths", "files")

SHELL_READERS = {"cat", "head", "tail", "nl", "less", "more", "bat", "sed"}
SHELL_WRITERS = {"touch", "rm", "tee"}
OPTIONS_WITH_VALUE = {"head": {"-n", "-c"}, "tail": {"-n", "-c"}, "sed": {"-e", "-f"}}
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"}


class Touched(NamedTuple):
    """Files read (and not modified) and files modified, each in the order first met."""

    read: list[str]
    modified: list[str]


def files_touched(entries: list[Entry]) -> Touched:
    """What the tool calls among ``entries`` read and modified."""
    failed = {
        e.get("call_id") for e in entries if e.get("type") == "tool_result" and e.get("is_error")
    }
    read: dict[str, None] = {}
    modified: dict[str, None] = {}
    cwd = ""
    for entry in entries:
        cwd = _cwd_of(entry) or cwd
        if entry.get("type") != "tool_call" or entry.get("call_id") in failed:
            continue
        tool_input = entry.get("input")
        where = _input_cwd(tool_input) or cwd
        reads, writes = call_files(str(entry.get("name") or ""), tool_input)
        for path in reads:
            read.setdefault(_relative(path, where), None)
        for path in writes:
            modified.setdefault(_relative(path, where), None)
    return Touched([p for p in read if p not in modified], list(modified))


def call_files(name: str, tool_input: Any) -> tuple[list[str], list[str]]:
    """(files read, files modified) by one tool call."""
    kind = name.lower().rsplit("__", 1)[-1]  # MCP tools: mcp__server__read_file
    if kind in PATCHERS:
        return [], patch_files(_patch_text(tool_input))
    if kind in READERS:
        return _paths(tool_input), []
    if kind in WRITERS:
        return [], _paths(tool_input)
    if kind in SHELLS:
        return shell_files(tool_input)
    return [], []


def patch_files(patch: str) -> list[str]:
    """The files an ``apply_patch`` patch adds, updates, deletes or moves to."""
    found = []
    for line in patch.splitlines():
        match = _PATCH_FILE.match(line.strip())
        if match:
            found.append((match.group(1) or match.group(2)).strip())
    return found


def shell_files(tool_input: Any) -> tuple[list[str], list[str]]:
    """(read, modified) by a shell call: its script read command by command."""
    command: Any = tool_input
    if isinstance(tool_input, dict):
        command = next(
            (tool_input[k] for k in ("command", "cmd", "script") if k in tool_input), None
        )
    if isinstance(command, list):
        words = [str(w) for w in command]
        if words and words[0] == "apply_patch" and len(words) > 1:
            return [], patch_files(words[1])
        if len(words) >= 3 and words[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh"):
            command = words[-1]  # ["bash", "-lc", script]
        else:
            command = shlex.join(words)
    if not isinstance(command, str):
        return [], []
    reads: list[str] = []
    writes: list[str] = []
    for line in _script_lines(command):
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote: a line of a longer string
            continue
        redirected: dict[str, list[str]] = {"read": [], "write": []}
        for words in _simple_commands(tokens, redirected):
            _command_files(words, reads, writes)
        reads += redirected["read"]
        writes += redirected["write"]
    return reads, writes


def _script_lines(script: str) -> list[str]:
    """The script's lines without the bodies of its here-documents."""
    lines: list[str] = []
    ending: str | None = None
    for line in script.splitlines():
        if ending is not None:
            if line.strip() == ending:
                ending = None
            continue
        lines.append(line)
        match = _HEREDOC.search(line)
        if match:
            ending = match.group(2)
    return lines


def _simple_commands(tokens: list[str], redirected: dict[str, list[str]]) -> list[list[str]]:
    """The words of each simple command; redirections' files go to ``redirected``."""
    commands: list[list[str]] = [[]]
    target: str | None = None  # what the next word is: "read", "write" or "skip"
    for token in tokens:
        if target is not None:
            if target != "skip" and _plain_path(token) and token != "/dev/null":
                redirected[target].append(token)
            target = None
            continue
        if token in (">", ">>", "&>", ">|"):
            target = "write"
        elif token == "<":
            target = "read"
        elif token.startswith("<"):
            target = "skip"  # an input file, a here-document's word, a here-string
        elif token in _OPERATORS:
            commands.append([])
        elif token.endswith(">"):
            continue  # 2>&1 and the like
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _command_files(words: list[str], reads: list[str], writes: list[str]) -> None:
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]  # VAR=value before the command
    if words and words[0] in ("sudo", "command", "exec"):
        words = words[1:]
    if not words:
        return
    name = words[0].rsplit("/", 1)[-1]
    takes_value = OPTIONS_WITH_VALUE.get(name, set())
    args: list[str] = []
    options: list[str] = []
    skip = False
    for word in words[1:]:
        if skip:
            skip = False
            if name == "sed" and options and options[-1] == "-e":
                options.append("script")
            continue
        if word.startswith("-") and word != "-":
            options.append(word)
            skip = word in takes_value
        else:
            args.append(word)
    paths = [a for a in args if _plain_path(a)]
    if name == "sed":
        if "script" not in options and "-f" not in options and args:
            paths = [a for a in args[1:] if _plain_path(a)]  # the first word is the script
        in_place = any(o.startswith("-i") or o.startswith("--in-place") for o in options)
        (writes if in_place else reads).extend(paths)
    elif name in SHELL_READERS:
        reads.extend(paths)
    elif name in SHELL_WRITERS or name == "mv":
        writes.extend(paths)
    elif name == "cp" and paths:
        reads.extend(paths[:-1])
        writes.append(paths[-1])


def _plain_path(word: str) -> bool:
    """A word that names a file as it stands: no globs, variables or substitutions."""
    return bool(word) and not any(c in word for c in "*?[]$`{}<>|;&") and not word.isdigit()


def _patch_text(tool_input: Any) -> str:
    if isinstance(tool_input, str):
        return tool_input
    if isinstance(tool_input, dict):
        for key in ("input", "patch"):
            if isinstance(tool_input.get(key), str):
                return str(tool_input[key])
        command = tool_input.get("command")
        if isinstance(command, list) and len(command) > 1 and isinstance(command[1], str):
            return command[1]
    return ""


def _paths(tool_input: Any) -> list[str]:
    if not isinstance(tool_input, dict):
        return []
    found = [tool_input[k] for k in PATH_KEYS if isinstance(tool_input.get(k), str)][:1]
    for key in LIST_KEYS:
        value = tool_input.get(key)
        if isinstance(value, list):
            found += [v for v in value if isinstance(v, str)]
    return [p for p in found if p]


def _cwd_of(entry: Entry) -> str:
    """The agent's working directory an entry states: Claude Code's ``cwd`` (kept in
    ``meta``), Codex's ``session_meta`` and ``turn_context`` events."""
    meta = entry.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("cwd"), str):
        return str(meta["cwd"])
    data = entry.get("data")
    if entry.get("type") == "event" and isinstance(data, dict) and isinstance(data.get("cwd"), str):
        return str(data["cwd"])
    return ""


def _input_cwd(tool_input: Any) -> str:
    if isinstance(tool_input, dict):
        for key in ("workdir", "cwd", "working_directory"):
            if isinstance(tool_input.get(key), str):
                return str(tool_input[key])
    return ""


def _relative(path: str, cwd: str) -> str:
    """``path`` relative to ``cwd`` when it lies under it, else as it was given."""
    path = path.strip()
    if cwd and path.startswith("/"):
        base = cwd.rstrip("/") + "/"
        if path.startswith(base):
            return path[len(base) :]
    return path.removeprefix("./")
