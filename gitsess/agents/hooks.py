"""Agent hook configuration: make each agent call `gitsess capture` on every turn.

Each agent keeps hooks in its own project file; gitsess merges its entries
into what is there and removes only its own:

- Claude Code: `.claude/settings.local.json` (personal, not committed)
- Gemini CLI: `.gemini/settings.json`
- Codex: `.codex/config.toml`, as a marked block (no TOML rewrite of the
  user's file, so comments and layout survive)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput

if TYPE_CHECKING:
    from ..storage.repo import Repository

MARK = "capture --agent"
BLOCK_BEGIN = "# BEGIN gitsess: managed by `gitsess hooks install`, removed by `uninstall`"
BLOCK_END = "# END gitsess"


@dataclass(frozen=True)
class HookStatus:
    agent: str
    path: Path
    installed: list[str]  # events with our hook
    wanted: list[str]

    @property
    def complete(self) -> bool:
        return set(self.wanted) <= set(self.installed)


def capture_command(agent: str) -> str:
    """The command an agent runs: this gitsess, by absolute path when it can be found."""
    from ..githooks import gitsess_executable

    return f"{shlex.quote(gitsess_executable())} {MARK} {agent}"


def _ours(command: Any) -> bool:
    return isinstance(command, str) and MARK in command and "gitsess" in command


class JsonHooks:
    """Claude Code and Gemini CLI: {"hooks": {Event: [{"matcher", "hooks": [...]}]}}."""

    def __init__(
        self, agent: str, relative: str, events: list[str], personal: bool = False
    ) -> None:
        self.agent, self.relative, self.events = agent, relative, events
        # A personal file (never committed): `hooks install` keeps it out of `git status`.
        self.personal = personal

    def path(self, root: Path) -> Path:
        return root / self.relative

    def install(self, root: Path) -> list[str]:
        path = self.path(root)
        settings = self._load(path)
        hooks = settings.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise BadInput(f"{path}: 'hooks' is not an object; not touching it")
        added = []
        command = capture_command(self.agent)
        for event in self.events:
            groups = hooks.setdefault(event, [])
            if not isinstance(groups, list):
                raise BadInput(f"{path}: hooks.{event} is not a list; not touching it")
            if any(
                _ours(h.get("command"))
                for g in groups
                if isinstance(g, dict)
                for h in g.get("hooks", [])
                if isinstance(h, dict)
            ):
                continue
            groups.append({"hooks": [{"type": "command", "command": command, "timeout": 60}]})
            added.append(event)
        if added:
            _write_json(path, settings)
        return added

    def uninstall(self, root: Path) -> list[str]:
        path = self.path(root)
        if not path.exists():
            return []
        settings = self._load(path)
        hooks = settings.get("hooks")
        if not isinstance(hooks, dict):
            return []
        removed = []
        for event in list(hooks):
            groups = hooks[event]
            if not isinstance(groups, list):
                continue
            kept_groups = []
            for group in groups:
                if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                    kept = [
                        h
                        for h in group["hooks"]
                        if not (isinstance(h, dict) and _ours(h.get("command")))
                    ]
                    if len(kept) != len(group["hooks"]):
                        removed.append(event)
                        if not kept:
                            continue
                        group = {**group, "hooks": kept}
                kept_groups.append(group)
            if kept_groups:
                hooks[event] = kept_groups
            else:
                del hooks[event]
        if not hooks:
            del settings["hooks"]
        if removed:
            if settings:
                _write_json(path, settings)
            else:
                _remove(path)  # the file held only our hooks
        return removed

    def advice(self, root: Path) -> str | None:
        return None

    def status(self, root: Path) -> HookStatus:
        path = self.path(root)
        installed = []
        if path.exists():
            hooks = self._load(path).get("hooks")
            for event, groups in hooks.items() if isinstance(hooks, dict) else []:
                for group in groups if isinstance(groups, list) else []:
                    commands = (
                        [h.get("command") for h in group.get("hooks", []) if isinstance(h, dict)]
                        if isinstance(group, dict)
                        else []
                    )
                    if any(_ours(c) for c in commands):
                        installed.append(event)
        return HookStatus(self.agent, path, installed, self.events)

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8") or "{}")
        except ValueError:
            message = f"{path} is not valid JSON; fix it first, gitsess will not touch it"
            raise BadInput(message) from None
        if not isinstance(data, dict):
            raise BadInput(f"{path} is not a JSON object; gitsess will not touch it")
        return data


class CodexHooks:
    """Codex: `[[hooks.<Event>]]` tables appended to `.codex/config.toml` in a marked block."""

    personal = False

    def __init__(self, relative: str, events: list[str]) -> None:
        self.agent, self.relative, self.events = "codex", relative, events

    def path(self, root: Path) -> Path:
        return root / self.relative

    def install(self, root: Path) -> list[str]:
        path = self.path(root)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if BLOCK_BEGIN in text:
            return []
        command = json.dumps(capture_command("codex"))  # a TOML basic string
        lines = [BLOCK_BEGIN]
        if "[features]" not in text:
            lines += ["[features]", "hooks = true", ""]
        for event in self.events:
            lines += [
                f"[[hooks.{event}]]",
                f"[[hooks.{event}.hooks]]",
                'type = "command"',
                f"command = {command}",
                "timeout = 60",
                "",
            ]
        lines.append(BLOCK_END)
        prefix = text if not text or text.endswith("\n") else text + "\n"
        _write_text(path, prefix + ("\n" if prefix else "") + "\n".join(lines) + "\n")
        return list(self.events)

    def uninstall(self, root: Path) -> list[str]:
        path = self.path(root)
        if not path.exists():
            return []
        text = path.read_text(encoding="utf-8")
        start = text.find(BLOCK_BEGIN)
        end = text.find(BLOCK_END, start)
        if start < 0 or end < 0:
            return []
        end += len(BLOCK_END)
        before = text[:start].rstrip("\n")
        after = text[end:].lstrip("\n")
        rest = before + ("\n" if before else "") + (("\n" + after) if after and before else after)
        if rest.strip():
            _write_text(path, rest if rest.endswith("\n") else rest + "\n")
        else:
            _remove(path)
        return list(self.events)

    def advice(self, root: Path) -> str | None:
        """Codex runs hooks only with the `hooks` feature on; say so if the file has it off."""
        path = self.path(root)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if BLOCK_BEGIN in text and not re.search(r"(?m)^\s*hooks\s*=\s*true", text):
            return f"turn hooks on in {self.relative}: add `hooks = true` under [features]"
        return None

    def status(self, root: Path) -> HookStatus:
        path = self.path(root)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        installed = list(self.events) if BLOCK_BEGIN in text and BLOCK_END in text else []
        return HookStatus(self.agent, path, installed, self.events)


INSTALLERS: dict[str, JsonHooks | CodexHooks] = {
    "claude-code": JsonHooks(
        "claude-code",
        ".claude/settings.local.json",
        ["UserPromptSubmit", "Stop", "SubagentStop", "SessionEnd"],
        personal=True,  # Claude Code's own "local" settings: meant to stay out of git
    ),
    "gemini": JsonHooks("gemini", ".gemini/settings.json", ["AfterAgent", "SessionEnd"]),
    "codex": CodexHooks(".codex/config.toml", ["UserPromptSubmit", "Stop"]),
}


def installer(agent: str) -> JsonHooks | CodexHooks:
    from ..agent_names import AGENT_ALIASES

    found = INSTALLERS.get(AGENT_ALIASES.get(agent, agent))
    if found is None:
        raise BadInput(f"no hooks for agent {agent!r}: choose one of {', '.join(INSTALLERS)}")
    return found


def exclude_locally(repo: Repository, relative: str) -> Path | None:
    """Add ``relative`` to the repository's own ignore list (`info/exclude`, never
    committed) unless git already ignores it; the exclude file when a line was added."""
    if repo.is_ignored(relative):
        return None
    exclude = repo.common_dir / "info" / "exclude"
    try:
        text = exclude.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    separator = "" if not text or text.endswith("\n") else "\n"
    line = f"# personal settings of an agent, hooked by `gitsess hooks install`\n/{relative}\n"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write(separator + line)
    return exclude


def _remove(path: Path) -> None:
    path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only if gitsess left it empty


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.gitsess-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
