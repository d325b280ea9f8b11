"""The picker's Textual application: a filter line, the sessions, a preview, key bindings.

It changes sessions only through the Catalog (model.py); what it returns (resume or fork a
session, or nothing on Esc) the command line carries out, printing as the commands do.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..render.safe import visible
from ..render.text import one_line
from .model import SCOPE_NAMES, SCOPES, Catalog, Row, age

# Narrower than this, the preview goes and rows drop the branch and agent columns.
WIDE = 100
SEARCH_DELAY = 0.25  # seconds of no typing before a content search runs


class Outcome:
    """What the user chose: ``action`` "resume" or "fork", on ``session``."""

    def __init__(self, action: str, session: str) -> None:
        self.action = action
        self.session = session


class Prompt(ModalScreen[str | None]):
    """One line of input (a new title), Enter to accept, Esc to cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, value: str) -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            yield Input(value=self.value, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """A yes/no question: y to confirm, anything else cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question)
            yield Label("y: yes   n or Esc: no", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class Picker(App[Outcome | None]):
    """Pick a session: type to filter, Enter to resume, Esc to leave."""

    ENABLE_COMMAND_PALETTE = False
    TITLE = "gitsess"
    CSS = """
    #filter { border: none; height: 1; padding: 0 1; }
    #scope { height: 1; padding: 0 1; color: $text-muted; }
    #sessions { width: 3fr; border: none; }
    #preview { width: 2fr; padding: 0 1; border-left: solid $primary-darken-2; }
    #dialog { width: 60; height: auto; padding: 1 2; border: thick $primary; background: $surface; }
    Prompt, Confirm { align: center middle; }
    .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave", priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("tab", "scope", "Family/all/archived", priority=True),
        Binding("ctrl+s", "search_mode", "Search content", priority=True),
        Binding("ctrl+f", "fork", "Fork", priority=True),
        Binding("ctrl+r", "rename", "Rename", priority=True),
        Binding("ctrl+a", "archive", "Archive", priority=True),
        Binding("ctrl+p", "pin", "Pin", priority=True),
        Binding("ctrl+d", "delete", "Delete", priority=True),
    ]

    def __init__(self, catalog: Catalog, scope: str = "all") -> None:
        super().__init__()
        self.catalog = catalog
        self.scope = scope
        self.searching = False
        self.shown: list[Row] = []
        self.snippets: dict[str, str] = {}  # content-search hits, by session
        self._search_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Type to filter: title, id, branch, tag", id="filter")
        yield Static(id="scope")
        with Horizontal():
            yield OptionList(id="sessions")
            yield Static(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).focus()
        self.refresh_rows()

    def on_resize(self) -> None:
        self.query_one("#preview", Static).display = self.size.width >= WIDE
        self.refresh_rows()

    # -- listing --------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value

    def refresh_rows(self, keep: str | None = None) -> None:
        """List the rows the scope and filter leave, keeping the highlight where it was."""
        option_list = self.query_one("#sessions", OptionList)
        current = keep or self.highlighted_id()
        if self.searching and self.filter_text.strip():
            ids = list(self.snippets)
            by_id = {r.id: r for r in self.catalog.in_scope(self.scope)}
            self.shown = [by_id[i] for i in ids if i in by_id]
        else:
            self.shown = self.catalog.filtered(self.scope, self.filter_text)
        width = max(option_list.size.width or self.size.width, 20)
        option_list.set_options(Option(self.row_text(r, width), id=r.id) for r in self.shown)
        ids = [r.id for r in self.shown]
        option_list.highlighted = ids.index(current) if current in ids else (0 if ids else None)
        mode = "search content" if self.searching else "filter"
        count = f"{len(self.shown)} of {len(self.catalog.in_scope(self.scope))}"
        self.query_one("#scope", Static).update(
            f"{SCOPE_NAMES[self.scope]} · {count} · {mode} (Tab: scope, ctrl+s: mode)"
        )
        self.update_preview()

    def row_text(self, row: Row, width: int) -> Text:
        wide = width >= 70
        tail = f" {age(row.updated):>4} {row.entries:>5}"
        if wide:
            tail += f"  {row.agent[:12]:<12} {row.branch[:28]}"
        marks = ("▪ " if row.pinned else "  ") + ("" if row.status != "archived" else "(archived) ")
        room = max(width - len(tail) - len(marks) - 1, 8)
        title = visible(row.title)
        title = title if len(title) <= room else title[: room - 1] + "…"
        text = Text(marks, style="bold yellow")
        text.append(f"{title:<{room}}", style="bold")
        text.append(tail, style="dim")
        return text

    def highlighted_id(self) -> str | None:
        option = self.query_one("#sessions", OptionList).highlighted_option
        return option.id if option is not None else None

    def update_preview(self) -> None:
        preview = self.query_one("#preview", Static)
        session_id = self.highlighted_id()
        if session_id is None:
            preview.update(Text("No sessions here.", style="dim"))
            return
        row = next(r for r in self.shown if r.id == session_id)
        text = Text()
        text.append(visible(row.title) + "\n", style="bold")
        text.append(f"{row.id}  {visible(row.branch)}\n", style="dim")
        if row.tags:
            text.append("tags: " + visible(" ".join(row.tags)) + "\n", style="dim")
        if session_id in self.snippets:
            text.append("\n" + visible(self.snippets[session_id]) + "\n", style="italic")
        text.append("\n")
        for entry in self.catalog.preview(session_id):
            text.append(visible(one_line(entry, 200)) + "\n")
        preview.update(text)

    # -- events -----------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        if self.searching:
            if self._search_timer is not None:
                self._search_timer.stop()
            self._search_timer = self.set_timer(SEARCH_DELAY, self.run_search)
        else:
            self.refresh_rows()

    def run_search(self) -> None:
        from ..search import Query, search

        text = self.filter_text.strip()
        self.snippets = {}
        if text:
            query = Query(text, include_archived=self.scope == "archived")
            for hit in search(self.catalog.sessions, query):
                self.snippets.setdefault(hit.session, hit.snippet)
        self.refresh_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.choose("resume")

    def on_option_list_option_highlighted(self, _: OptionList.OptionHighlighted) -> None:
        self.update_preview()

    def on_option_list_option_selected(self, _: OptionList.OptionSelected) -> None:
        self.choose("resume")  # a click, or Enter with the list focused

    # -- actions ------------------------------------------------------------------------

    def choose(self, action: str) -> None:
        session_id = self.highlighted_id()
        if session_id is not None:
            self.exit(Outcome(action, session_id))

    def action_leave(self) -> None:
        self.exit(None)

    def action_move(self, step: int) -> None:
        option_list = self.query_one("#sessions", OptionList)
        if not self.shown:
            return
        at = option_list.highlighted or 0
        option_list.highlighted = min(max(at + step, 0), len(self.shown) - 1)

    def action_scope(self) -> None:
        self.scope = SCOPES[(SCOPES.index(self.scope) + 1) % len(SCOPES)]
        if self.searching:
            self.run_search()
        else:
            self.refresh_rows()

    def action_search_mode(self) -> None:
        self.searching = not self.searching
        placeholder = (
            "Search inside sessions" if self.searching else "Type to filter: title, id, branch, tag"
        )
        self.query_one("#filter", Input).placeholder = placeholder
        self.snippets = {}
        if self.searching:
            self.run_search()
        else:
            self.refresh_rows()

    def action_fork(self) -> None:
        self.choose("fork")

    def action_rename(self) -> None:
        session_id = self.highlighted_id()
        if session_id is None:
            return
        row = next(r for r in self.shown if r.id == session_id)

        def done(title: str | None) -> None:
            if title and title != row.title:
                self.apply(lambda: self.catalog.rename(session_id, title), f"Renamed to {title!r}")

        self.push_screen(Prompt(f"New title for {session_id}:", row.title), done)

    def action_archive(self) -> None:
        session_id = self.highlighted_id()
        if session_id is not None:
            self.apply(lambda: self.catalog.toggle_archived(session_id), "Archive toggled")

    def action_pin(self) -> None:
        session_id = self.highlighted_id()
        if session_id is not None:
            self.apply(lambda: self.catalog.toggle_pin(session_id), "Pin toggled")

    def action_delete(self) -> None:
        session_id = self.highlighted_id()
        if session_id is None:
            return
        row = next(r for r in self.shown if r.id == session_id)

        def done(yes: bool | None) -> None:
            if yes:
                self.apply(
                    lambda: self.catalog.delete(session_id),
                    f"Deleted {session_id} (gitsess undelete {session_id} restores it)",
                )

        self.push_screen(Confirm(f"Delete {row.title!r} ({session_id})?"), done)

    def apply(self, change: Any, message: str) -> None:
        """Run a change; a refusal is a notification, never a crash of the picker."""
        from ..errors import GitsessError

        try:
            change()
        except GitsessError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify(message)
        self.refresh_rows()
