"""Commands answered without click or rich, for the hot paths.

`gitsess status` runs in shell prompts and editor status lines, `list --json` and
`--version` in scripts and editors, `capture` on every agent turn and `hook` on every
commit; `new`, `fork` and `record` (a message, or a batch with --jsonl) at every agent
run; `import` and `record --jsonl` are measured against json.loads of their input, and
`search` into a pipe against git grep. Loading click and rich costs more than all of
their work, so ``dispatch`` answers exactly these argument forms itself and returns None
for anything else (help, unusual flags, `--opt=value`, mistakes): the full CLI then
handles it, with the same behaviour and messages.
"""

from __future__ import annotations

import sys

from .render.emit import emit_json

# typing's flag without importing typing (~3 ms of every hot command's start-up): type
# checkers take the first branch, Python the second; annotations are never evaluated.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .sessions import Sessions
    from .storage.log import LogState


def dispatch(args: list[str]) -> int | None:
    if args == ["--version"]:
        from . import __version__

        print(f"gitsess, version {__version__}")
        return 0
    if args[:1] == ["capture"]:
        from .capture import main as capture

        return capture(args[1:])
    if args[:1] == ["hook"]:
        from .githooks import main as hook

        return hook(args[1:])
    path, rest = (args[1], args[2:]) if args[:1] == ["-C"] and len(args) > 1 else (None, args)
    searched = _search_form(rest)
    if searched is not None:
        return search(path, *searched)
    command = _hot_command(rest)
    if command is None:
        return None
    sessions = open_sessions(path)
    try:
        code = command(sessions)
    finally:
        sessions.repo.close()
    if code is DEFER:
        return None
    return code if isinstance(code, int) else 0


# A command's answer when it is not one this module gives after all: the full CLI does.
DEFER = -1


def _hot_command(rest: list[str]) -> Callable[[Sessions], int | None] | None:
    """What to run on the sessions for ``rest``, when it is one of the forms answered here."""
    if rest in (["status"], ["status", "--json"]):
        return lambda sessions: status(sessions, as_json=len(rest) == 2)
    message = _record_message_form(rest)
    if message is not None:
        names, role, text, as_json = message
        return lambda sessions: record_message(sessions, names, role, text, as_json)
    batch = _plain_form(rest[1:], *RECORD_BATCH_FORM) if rest[:1] == ["record"] else None
    if batch is not None and "--jsonl" in batch[1]:
        words, options, flags = batch
        return lambda sessions: record_batch(
            sessions, words[0] if words else None, options["--jsonl"], "--json" in flags
        )
    if rest[:1] == ["list"] and "--json" in rest and set(rest[1:]) <= {"--json", "--all"}:
        return lambda sessions: list_json(sessions, include_all="--all" in rest)
    table = _list_table_form(rest)
    if table is not None:
        include_all, count = table
        return lambda sessions: list_table(sessions, include_all, count)
    return _creating_command(rest)


# The plain forms of `new` and `fork`: flags, and options whose value is the next word.
# Anything else (--worktree, --task, `--opt=value`, help, a mistake) goes to click.
NEW_FORM = ({"--no-checkout", "--json"}, {"--from", "--agent"}, (1, 1))
FORK_FORM = ({"--no-checkout", "--json"}, {"--at", "--title"}, (0, 1))
# `record [SESSION] --jsonl FILE`: an agent's batch (measured against json.loads of it).
RECORD_BATCH_FORM = ({"--json"}, {"--jsonl"}, (0, 1))
IMPORT_FORM = ({"--no-checkout", "--new", "--json"}, {"--format", "--title"}, (1, 1))


def _creating_command(rest: list[str]) -> Callable[[Sessions], int | None] | None:
    """`new` and `fork` in their plain forms (a session is started at every agent run:
    click and rich would cost more than the work), else None."""
    if rest[:1] == ["new"]:
        parsed = _plain_form(rest[1:], *NEW_FORM)
        if parsed is not None:
            words, options, flags = parsed
            return lambda sessions: new(sessions, words[0], options, flags)
    if rest[:1] == ["fork"]:
        parsed = _plain_form(rest[1:], *FORK_FORM)
        if parsed is not None:
            words, options, flags = parsed
            return lambda sessions: fork(sessions, words[0] if words else None, options, flags)
    if rest[:1] == ["import"]:  # measured against json.loads of the transcript: no click
        parsed = _plain_form(rest[1:], *IMPORT_FORM)
        if parsed is not None:
            words, options, flags = parsed
            return lambda sessions: import_transcript(
                sessions,
                words[0],
                options.get("--format"),
                options.get("--title"),
                checkout="--no-checkout" not in flags,
                force_new="--new" in flags,
                as_json="--json" in flags,
            )
    return None


def _plain_form(
    args: list[str], flags: set[str], valued: set[str], counts: tuple[int, int]
) -> tuple[list[str], dict[str, str], set[str]] | None:
    """(positional words, {option: value}, flags given) when ``args`` use only these
    options, each once, with values that cannot be mistaken for options; else None."""
    words: list[str] = []
    options: dict[str, str] = {}
    given: set[str] = set()
    at = 0
    while at < len(args):
        arg = args[at]
        if arg in flags and arg not in given:
            given.add(arg)
        elif arg in valued and arg not in options:
            value = args[at + 1] if at + 1 < len(args) else "-x"
            if value.startswith("-") and value != "-":  # "-": standard input
                return None
            options[arg] = args[at + 1]
            at += 1
        elif arg.startswith("-") and arg != "-":
            return None
        else:
            words.append(arg)
        at += 1
    low, high = counts
    return (words, options, given) if low <= len(words) <= high else None


def new(sessions: Sessions, title: str, options: dict[str, str], flags: set[str]) -> None:
    """`gitsess new TITLE`, as cli/sessions.py's `new` without --worktree and --task."""
    sessions.remote_hints = True  # as click's route: only unattended commands go without
    checkout = "--no-checkout" not in flags
    state = sessions.new(
        utf8(title, "the title"), options.get("--from"), checkout, options.get("--agent")
    )
    report_created(sessions, state, "Started", "--json" in flags, checkout)


def fork(sessions: Sessions, name: str | None, options: dict[str, str], flags: set[str]) -> None:
    """`gitsess fork [SESSION]`, as cli/sessions.py's `fork` without --worktree and --task."""
    sessions.remote_hints = True
    source = sessions.resolve_or_current(name)
    checkout = "--no-checkout" not in flags
    title = options.get("--title")
    new_title = utf8(title, "the title") if title is not None else None
    state = sessions.fork(source, options.get("--at"), new_title, checkout)
    report_created(sessions, state, "Forked", "--json" in flags, checkout)


def import_transcript(
    sessions: Sessions,
    file: str,
    format_name: str | None,
    title: str | None,
    checkout: bool,
    force_new: bool,
    as_json: bool,
) -> None:
    """`gitsess import FILE`, for click's route and this one alike."""
    from pathlib import Path

    from .agents import import_conversation
    from .ids import check_title

    sessions.remote_hints = True
    if title is not None:  # an empty --title is a mistake, not "derive one"
        check_title(utf8(title, "the title"))
    done = import_conversation(sessions, Path(file), format_name, title, checkout, new=force_new)
    if as_json:  # the summary, and what this import added to it
        existing = done.appended is not None
        appended = done.appended if existing else done.state.count
        emit_json({**sessions.summary_of(done.state), "existing": existing, "appended": appended})
        return
    if done.appended is None:
        report_created(sessions, done.state, "Imported", as_json, checkout)
        return
    from .render.spans import print_spans

    count = done.appended
    what = (
        f"Appended {count} new entr{'y' if count == 1 else 'ies'} to" if count else "Nothing new:"
    )
    print_spans(
        [
            (f"{what} session ", ""),
            (str(done.state.meta.get("id")), "yellow"),
            (" ", ""),
            (str(done.state.meta.get("title", "")), "bold"),
            (" (already imported; --new makes a new session)", "dim"),
        ]
    )


def report_created(
    sessions: Sessions,
    state: LogState,
    verb: str,
    as_json: bool,
    checked_out: bool,
    worktree: str | None = None,
) -> None:
    """What `new` and `fork` print: the session, its branch and where it is checked out."""
    summary = sessions.summary_of(state)
    if as_json:
        emit_json({**summary, "worktree": worktree} if worktree else summary)
        return
    from .render.spans import print_spans
    from .render.text import plural

    meta = state.meta
    where = "checked out" if checked_out else "not checked out"
    where = f"checked out in {worktree}" if worktree else where
    print_spans(
        [
            (f"{verb} session ", ""),
            (str(meta["id"]), "yellow"),
            (" ", ""),
            (str(meta["title"]), "bold"),
            (f" with {plural(state.count, 'entry')}" if state.count else "", ""),
        ],
        [("Branch ", ""), (str(meta["branch"]), "cyan"), (f" ({where})", "")],
    )


SEARCH_FLAGS = {"-E", "--regex", "-s", "--case-sensitive", "--all", "--json"}


def _search_form(rest: list[str]) -> tuple[str, set[str]] | None:
    """`search TEXT [-E] [-s] [--all] [--json]` into a pipe (search is measured against
    git grep, and click alone costs as much as grepping a thousand sessions); else None."""
    if rest[:1] != ["search"] or (sys.stdout.isatty() and "--json" not in rest):
        return None
    texts = [arg for arg in rest[1:] if arg not in SEARCH_FLAGS]
    if len(texts) != 1 or texts[0].startswith("-"):
        return None
    return texts[0], set(rest[1:]) - {texts[0]}


def search(path: str | None, text: str, flags: set[str]) -> int:
    """git lists the logs while gitsess loads, and greps them while it opens the repository."""
    import os

    from .storage.listing import EarlyListing

    start = path or os.getcwd()
    listed = EarlyListing(start)
    try:
        from .search import Query, begin
        from .storage.git import Git

        regex, case = bool(flags & {"-E", "--regex"}), bool(flags & {"-s", "--case-sensitive"})
        query = Query(text, regex, case, include_archived="--all" in flags)
        early = begin(Git(start), listed, query)
        try:
            sessions, synced = _open(path)
            try:
                from .render.search import report
                from .search import search as run

                hits = run(sessions, query, None if synced else early)
                try:
                    return report(hits, query, "--json" in flags)
                finally:
                    hits.close()  # a reader gone early (`| head`): git stops now
            finally:
                sessions.repo.close()
        finally:
            early.close()
    finally:
        listed.close()


ROLES = ("user", "assistant", "system")


def _record_message_form(rest: list[str]) -> tuple[list[str], str, str, bool] | None:
    """`record [SESSION] --role ROLE TEXT [--json]` in its plain forms, else None."""
    if rest[:1] != ["record"] or "--role" not in rest:
        return None
    args = rest[1:]
    as_json = args[-1:] == ["--json"]
    args = args[:-1] if as_json else args
    at = args.index("--role")
    if at + 1 >= len(args) or args[at + 1] not in ROLES:
        return None
    positional = args[:at] + args[at + 2 :]
    if not 1 <= len(positional) <= 2 or any(a.startswith("-") and a != "-" for a in positional):
        return None
    return positional[:-1], args[at + 1], positional[-1], as_json


def record_message(
    sessions: Sessions, names: list[str], role: str, text: str, as_json: bool
) -> None:
    """Append one message (``text`` "-": read from stdin) to SESSION or the current one."""
    from .errors import BadInput

    if text == "-":
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("TEXT from stdin is not valid UTF-8") from None
    text = utf8(text, "TEXT")
    if not text.strip():  # a message of nothing is a slip (an unset variable), not a turn
        raise BadInput("the message TEXT is empty: nothing was recorded")
    session_id = sessions.resolve_or_current(names[0] if names else None)
    entry = {"type": "message", "role": role, "content": text}
    # Built here, so only shaped: pydantic stays unloaded.
    count, oid = sessions.record(session_id, [(1, entry)], trusted=True)
    report_appended(session_id, count, oid, as_json)


def utf8(text: str, what: str) -> str:
    """``text`` if UTF-8 can carry it (command-line arguments may hold lone surrogates)."""
    from .errors import BadInput

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{what} is not valid UTF-8") from None
    return text


def record_batch(sessions: Sessions, name: str | None, source: str, as_json: bool) -> None:
    """`gitsess record [SESSION] --jsonl FILE` (FILE `-`: standard input), all or nothing;
    for click's route and this one alike."""
    from .jsonl import read_jsonl

    batch = list(read_jsonl(source))
    session_id = sessions.resolve_or_current(name)
    # --jsonl input is checked against the model.
    count, oid = sessions.record(session_id, batch)
    report_appended(session_id, count, oid, as_json)


def report_appended(session_id: str, count: int, oid: str, as_json: bool) -> None:
    if as_json:
        emit_json({"appended": count, "log": oid})
    else:
        print(f"Appended {count} entr{'y' if count == 1 else 'ies'} to {session_id}.")


def open_sessions(path: str | None) -> Sessions:
    """The repository's sessions, with logs a plain `git fetch` brought merged first."""
    return _open(path)[0]


def _open(path: str | None) -> tuple[Sessions, bool]:
    """The sessions, and whether a fetch's logs were merged (sessions changed) first."""
    from .sessions import Sessions
    from .storage.repo import Repository

    sessions = Sessions(Repository(path))
    fetched = sessions.repo.fetched_since_seen()
    if fetched:
        from .sharing import Sharing

        Sharing(sessions).sync()
    return sessions, fetched


def listing_rows(sessions: Sessions, include_all: bool) -> list[dict[str, Any]]:
    """Summaries for `list`; a session that cannot be read is one warning on stderr."""
    listed = sessions.listing(include_all)
    rows = [sessions.summary(r.meta, r.count, r.oid) for r in listed]
    for _, broken in sorted(sessions.store.broken.items()):
        print(f"gitsess: warning: {broken.message}", file=sys.stderr)
    for _, flagged in sorted(sessions.flagged(listed).items()):  # listed, but branch ignored
        print(f"gitsess: warning: {flagged}", file=sys.stderr)
    return rows


def list_json(sessions: Sessions, include_all: bool, limit: int | None = None) -> None:
    """Every session's summary (at most ``limit``), newest first. Into a pipe the cached
    summaries are written as they are stored, without parsing them."""
    warnings: dict[str, str] = {}
    cached = sessions.listing_json(include_all, limit, warnings)
    if cached is None:
        rows = listing_rows(sessions, include_all)
        emit_json(rows if limit is None else rows[:limit])
        return
    if sys.stdout.isatty():  # indented for a person: the slow way is fast enough for one
        import json

        rows = [json.loads(piece) for piece in cached]
        warn(warnings)
        emit_json(rows)
        return
    # As print(json.dumps(rows)) would write the list, through the same filter (a title's
    # control characters are shown as escapes: render/safe.py), a thousand rows at a time.
    write = sys.stdout.write
    write("[")
    chunk: list[bytes] = []
    first = True
    for piece in cached:
        chunk.append(piece)
        if len(chunk) == 1000:
            write(("" if first else ", ") + b", ".join(chunk).decode("utf-8"))
            chunk, first = [], False
    if chunk:
        write(("" if first else ", ") + b", ".join(chunk).decode("utf-8"))
    write("]\n")
    warn(warnings)


def _list_table_form(rest: list[str]) -> tuple[bool, int | None] | None:
    """(--all, -n N) of `list [--all] [-n N]` into a pipe; else None."""
    if rest[:1] != ["list"] or sys.stdout.isatty():
        return None
    parsed = _plain_form(rest[1:], {"--all"}, {"-n"}, (0, 0))
    if parsed is None:
        return None
    _, options, flags = parsed
    count = options.get("-n")
    if count is not None and not (count.isdigit() and int(count) >= 1):
        return None  # click's message for it
    return "--all" in flags, int(count) if count is not None else None


def list_table(sessions: Sessions, include_all: bool, count: int | None) -> int | None:
    """`list [--all] [-n N]` into a pipe: the table's lines, made from the listing cache's
    names (listtable.py); `--all` is measured against `list --json --all`, and click and
    rich alone would cost a third of that, and the page is what scripts and `| less` read.
    The line saying how many more there are goes to stderr, as click's route writes it.
    DEFER when the full CLI must say more (no sessions yet, sessions read afresh, a bad
    gitsess.listCount)."""
    from .listtable import more_line, page_size, table_rows
    from .render.lines import column_lines
    from .storage import pins
    from .storage.worktrees import by_branch

    repo = sessions.repo
    limit = (
        count if count is not None or include_all else page_size(repo.config("gitsess.listCount"))
    )
    if limit is None and not include_all:
        return DEFER
    elsewhere = {b: w.path for b, w in by_branch(repo).items() if w.path != repo.root_path}
    found = table_rows(sessions, include_all, limit, pins.pinned(repo), elsewhere)
    if found is None or not found.shown:
        return DEFER
    for warning in found.warnings:
        print(f"gitsess: warning: {warning}", file=sys.stderr)
    sys.stdout.write(column_lines(found.columns))
    more = more_line(found.total - found.shown, found.shown)
    if more:
        sys.stdout.flush()
        print(more, file=sys.stderr)
    return None


def warn(warnings: dict[str, str]) -> None:
    for session_id in sorted(warnings):
        print(f"gitsess: warning: {warnings[session_id]}", file=sys.stderr)


def status(sessions: Sessions, as_json: bool) -> None:
    """The current session, if a session's branch is checked out."""
    state = sessions.current()
    repo = sessions.repo
    # In a linked worktree the git directory is not the common one: no process to ask.
    import os  # loaded by Python's start-up already

    linked = os.path.realpath(repo.git_dir_path) != repo.common_dir_path
    if as_json:
        summary = sessions.summary_of(state) if state else None
        if summary is not None and linked:
            summary["worktree"] = repo.root_path
        emit_json(summary)
        return
    if state is None:
        branch = sessions.repo.current_branch()
        where = f"on branch {branch}" if branch else "HEAD is detached"
        print(f"No current session ({where}).")
        return
    from .render.spans import print_spans, width
    from .render.text import header_parts, one_line

    title, details = header_parts(sessions.summary_of(state))
    last = sessions.store.last_entries(state, 1)
    lines = [title, details]
    if linked:
        lines.append([("worktree ", "dim"), (repo.root_path, "")])
    if last:
        lines.append([("last:", "dim"), (" " + one_line(last[0], width() - 6), "")])
    print_spans(*lines)
