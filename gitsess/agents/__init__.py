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
    "Imported",
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


class Imported:
    """What `import` did: the session, and how many entries went into an existing one
    (``appended`` is None when the session is new)."""

    __slots__ = ("appended", "state")

    def __init__(self, state: LogState, appended: int | None) -> None:
        self.state, self.appended = state, appended


def import_conversation(
    sessions: Sessions,
    path: Path,
    format_name: str | None,
    title: str | None,
    checkout: bool,
    new: bool = False,
) -> Imported:
    """The transcript at ``path`` as a session; nothing is created on error.

    A transcript imported (or captured) before goes into that session again: only the
    entries its log does not have yet are appended (entry ids are stable across parses).
    ``new`` makes a new session all the same.
    """
    if not path.is_file():
        raise BadInput(f"cannot read {path}: no such file")
    fmt = get(format_name) if format_name else detect(path)
    conversation = fmt.parse(path)
    if not conversation.entries:
        raise FormatError(f"{path}: no conversation in it")
    existing = None if new else imported_before(sessions, fmt.name, conversation.native_id, path)
    if existing is not None:
        from .resume import handed_back_ids

        # As capture does: entries gitsess itself handed to the agent are in the log already.
        given = handed_back_ids(sessions.repo.common_dir, existing)
        entries = [e for e in conversation.entries if e.get("id") not in given]
        appended, _ = sessions.record(
            existing, list(enumerate(entries, start=1)), skip_known=True, trusted=fmt.trusted
        )
        _remember_import(sessions, path, existing)
        return Imported(sessions.store.require(existing), appended)
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
    state = sessions.new(
        chosen,
        checkout=checkout,
        agent=conversation.agent or None,
        entries=conversation.entries,
        extra={"source": source},
        trusted=fmt.trusted,
    )
    _remember_import(sessions, path, state.session_id)
    return Imported(state, None)


def imported_before(
    sessions: Sessions, format_name: str, native_id: str | None, path: Path
) -> str | None:
    """The session that already holds this transcript, if any.

    Recognised by the agent's own session id (session.json's `source`, written by
    `import` and by `capture` when it starts a session), else by the transcript's path:
    the sessions `import` and `capture` last recorded it into, as noted in the
    repository's state folder (a path is local; it is never written into a session).
    """
    alive = {str(row.meta.get("id")): row for row in sessions.listing(include_archived=True)}
    if native_id is not None:
        for session_id, row in alive.items():  # newest activity first
            source = row.meta.get("source")
            if isinstance(source, dict) and (source.get("format"), source.get("id")) == (
                format_name,
                native_id,
            ):
                return session_id
    for folder in ("import", "capture"):
        noted = _noted_session(sessions, folder, path)
        if noted in alive and _source_format(alive[noted].meta) in (format_name, None):
            return noted
    return None


def _source_format(meta: dict[str, object]) -> object:
    source = meta.get("source")
    return source.get("format") if isinstance(source, dict) else None


def _path_key(path: Path) -> str:
    """The name capture gives the state file of a transcript (see capture.run)."""
    import hashlib
    import os

    return hashlib.sha1(os.fsencode(path.resolve())).hexdigest()


def _noted_session(sessions: Sessions, folder: str, path: Path) -> str | None:
    import json

    note = sessions.repo.common_dir / "gitsess" / folder / f"{_path_key(path)}.json"
    try:
        data = json.loads(note.read_text())
    except (OSError, ValueError):
        return None
    found = data.get("session") if isinstance(data, dict) else None
    return found if isinstance(found, str) else None


def _remember_import(sessions: Sessions, path: Path, session_id: str) -> None:
    """Note which session the transcript at ``path`` went into (for the next import)."""
    import json
    import os

    folder = sessions.repo.common_dir / "gitsess" / "import"
    folder.mkdir(parents=True, exist_ok=True)
    note = folder / f"{_path_key(path)}.json"
    tmp = note.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"path": str(path.resolve()), "session": session_id}))
    os.replace(tmp, note)
