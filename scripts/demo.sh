#!/usr/bin/env bash
# A tour of gitsess in a throwaway repository: a session, a fork, a push to a
# local remote and a fetch in a second clone. Needs `gitsess` on PATH (make demo).
set -euo pipefail

work=$(mktemp -d "${TMPDIR:-/tmp}/gitsess-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name "Ada Demo"
git config --global user.email "ada@example.com"
git config --global init.defaultBranch main

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

git init -q --bare "$work/remote.git"
git clone -q "$work/remote.git" "$work/alice" 2>/dev/null
cd "$work/alice"
echo "body { color: black; }" > style.css
git add style.css && git commit -qm "Initial styles" && git push -q origin main

step gitsess new "Add dark mode"
sid=$(gitsess status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
step gitsess record --role user "Add a dark mode that follows the system setting."
gitsess record --jsonl - <<'JSONL'
{"type":"reasoning","content":"A prefers-color-scheme media query is enough."}
{"type":"tool_call","name":"Edit","input":{"file":"style.css"},"call_id":"c1"}
{"type":"tool_result","call_id":"c1","output":"style.css: 3 lines added"}
JSONL
echo "@media (prefers-color-scheme: dark) { body { color: white; } }" >> style.css
git commit -qam "Dark mode via prefers-color-scheme"
step gitsess record --role assistant "Done: style.css now follows the system theme."
step gitsess show "$sid"

step gitsess fork "$sid" --title "Dark mode with a toggle"
step gitsess record --role user "Instead, add a toggle button that remembers the choice."
step gitsess list
step gitsess tree
step gitsess search "toggle"

echo
echo "Sharing: one git push carries the logs and their branches."
step gitsess push "$sid" "Dark mode with a toggle"

git clone -q "$work/remote.git" "$work/bob" 2>/dev/null
cd "$work/bob"
step gitsess fetch
step gitsess list
step gitsess resume "Add dark mode"
step git log --oneline -3

echo
echo "Bob carries on; Alice appends too; the logs merge without losing either side."
step gitsess record --role user "Also darken the code blocks."
(cd "$work/alice" && gitsess record "$sid" --role assistant "Alice here: the toggle fork is ready." >/dev/null && gitsess push "$sid")
step gitsess push "$sid" || true
step gitsess fetch
step gitsess push "$sid"
step gitsess show "$sid"
echo
echo "Demo finished in $work (removed on exit)."
