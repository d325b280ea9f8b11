"""The names an agent goes by on the command line (`--agent claude`), each to the name of
its format. Apart from agents/ (whose package import costs ~25 ms) because capture, on
every agent turn, needs only this table; capture, resume, the agent hooks and doctor share it.
"""

AGENT_ALIASES = {
    "claude": "claude-code",
    "claude-code": "claude-code",
    "codex": "codex",
    "gemini": "gemini",
    "gemini-cli": "gemini",
}
