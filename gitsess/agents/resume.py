"""Handing a session back to an agent: write its conversation where the agent looks.

The written transcript's entries get the agent's ids, not the session's; so
that capture does not record the handed-back history a second time, those
ids are remembered as already present in the session.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import BadInput

if TYPE_CHECKING:
    from ..handoff import Handoff
    from ..sessions import Sessions

Entry = dict[str, Any]

RESUMABLE = ("claude-code", "codex")


class Handed(NamedTuple):
    path: Path  # the transcript written
    command: str  # the command that carries on there
    handoff: Handoff  # what was handed over
    compacted: Entry | None  # the summary `--compact` wrote first, if it did


def resume_in_agent(
    sessions: Sessions,
    session_id: str,
    agent: str,
    full: bool = False,
    compact: bool = False,
    focus: str | None = None,
) -> Handed:
    """Write the session as ``agent``'s transcript: the latest summary and what follows it
    (``full``: everything), large tool output capped (handoff.py). ``compact``: first
    compact the session (with ``focus``) when the hand-off would exceed
    gitsess.handoffSize."""
    given, compacted = prepare(sessions, session_id, agent, full, compact, focus)
    return write_handoff(sessions, session_id, agent, given, compacted)


def prepare(
    sessions: Sessions,
    session_id: str,
    agent: str,
    full: bool = False,
    compact: bool = False,
    focus: str | None = None,
) -> tuple[Handoff, Entry | None]:
    """What ``agent`` is to be handed, compacting first when asked and needed; and the
    summary that compaction wrote. Done before anything is checked out: a summarizer that
    fails leaves everything as it was."""
    from ..handoff import handoff, limits

    agent = check_agent(agent)
    cap, size = limits(sessions.repo)
    state = sessions.store.require(session_id)
    given = handoff(sessions.store.entries(state), agent, full, cap)
    compacted = None
    if compact and given.size > size:
        from ..compact import compact as compact_session

        compacted = compact_session(sessions, session_id, focus).entry
        entries = sessions.store.entries(sessions.store.require(session_id))
        given = handoff(entries, agent, full, cap)
    return given, compacted


def write_handoff(
    sessions: Sessions, session_id: str, agent: str, given: Handoff, compacted: Entry | None
) -> Handed:
    """Write ``given`` where ``agent`` looks for its transcripts."""
    from . import get

    agent = check_agent(agent)
    cwd = str(sessions.repo.root)
    if agent == "claude-code":
        from .claude_code import to_transcript, transcript_dir, write_transcript

        native = str(uuid.uuid4())
        config = os.environ.get("CLAUDE_CONFIG_DIR")
        path = transcript_dir(Path(cwd), Path(config) if config else None) / f"{native}.jsonl"
        write_transcript(to_transcript(given.entries, native, cwd), path)
        command = f"claude --resume {native}"
    else:
        from .codex import new_session_uuid, rollout_path, to_rollout, write_rollout

        native = new_session_uuid()
        path = rollout_path(datetime.now(timezone.utc), native)
        write_rollout(to_rollout(given.entries, native, cwd), path)
        command = f"codex resume {native}"
    written = get(agent).parse(path)
    remember_handed_back(sessions.repo.common_dir, session_id, [e["id"] for e in written.entries])
    return Handed(path, command, given, compacted)


def check_agent(agent: str) -> str:
    """The agent's canonical name, or BadInput if gitsess cannot hand sessions to it."""
    from ..agent_names import AGENT_ALIASES

    name = AGENT_ALIASES.get(agent, agent)
    if name not in RESUMABLE:
        raise BadInput(f"cannot resume in {agent!r}: choose one of {', '.join(RESUMABLE)}")
    return name


def handed_back_ids(common_dir: Path, session_id: str) -> set[str]:
    """Ids of entries an agent was given back for ``session_id``: already in its log."""
    try:
        data = json.loads(_state_file(common_dir, session_id).read_text())
    except (OSError, ValueError):
        return set()
    return set(data) if isinstance(data, list) else set()


def remember_handed_back(common_dir: Path, session_id: str, ids: list[str]) -> None:
    path = _state_file(common_dir, session_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    known = sorted(handed_back_ids(common_dir, session_id) | set(ids))
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(known))
    os.replace(tmp, path)


def _state_file(common_dir: Path, session_id: str) -> Path:
    return common_dir / "gitsess" / "capture" / f"handed-back-{session_id}.json"
