"""Agent transcript formats: one module per agent behind the interface in `base`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInput
from .base import AgentFormat, Conversation, FormatError, clean_title, first_prompt_title

if TYPE_CHECKING:
    from ..sessions import Sessions
    from ..storage.log import LogState

__all__ = [
    "AgentFormat",
    "Conversation",
    "FormatError",
    "detect",
    "get",
    "import_conversation",
    "names",
]

# Module name per format; loaded on first use so that commands that never import stay fast.
_MODULES = {
    "gitsess": "gitsess_jsonl",
    "claude-code": "claude_code",
    "codex": "codex",
    "gemini": "gemini",
    "kimi": "kimi",
    "aider": "aider",
}


def names() -> list[str]:
    return list(_MODULES)


def get(name: str) -> AgentFormat:
    import importlib

    module_name = _MODULES.get(name)
    if module_name is None:
        raise BadInput(f"unknown format {name!r}: choose one of {', '.join(_MODULES)}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    fmt: AgentFormat = module.FORMAT
    return fmt


def detect(path: Path) -> AgentFormat:
    """The format of the transcript at ``path``, from its name and first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    for name in _MODULES:
        fmt = get(name)
        if fmt.sniff(path, head):
            return fmt
    raise BadInput(
        f"{path}: not a transcript gitsess knows (try --format; formats: {', '.join(_MODULES)})"
    )


def import_conversation(
    sessions: Sessions, path: Path, format_name: str | None, title: str | None, checkout: bool
) -> LogState:
    """A new session holding the whole transcript at ``path``; nothing is created on error."""
    if not path.is_file():
        raise BadInput(f"cannot read {path}: no such file")
    fmt = get(format_name) if format_name else detect(path)
    conversation = fmt.parse(path)
    if not conversation.entries:
        raise FormatError(f"{path}: no conversation in it")
    chosen = (
        title
        or clean_title(conversation.title or "")
        or clean_title(first_prompt_title(conversation.entries) or "")
        or clean_title(path.stem)
        or fmt.name
    )
    source = {"format": fmt.name, "file": path.name, "id": conversation.native_id}
    if conversation.cwd:
        source["cwd"] = conversation.cwd
    source.update(conversation.meta)
    return sessions.new(
        chosen,
        checkout=checkout,
        agent=conversation.agent or None,
        entries=conversation.entries,
        extra={"source": source},
        trusted=fmt.trusted,
    )
