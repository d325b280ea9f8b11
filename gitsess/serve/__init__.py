"""`gitsess serve`: a local, read-only web viewer of the repository's sessions.

Layers: ``security`` guards every request (token, Host, methods, headers); ``reader`` is the
one long-lived reader of the sessions, through the storage layer; ``app`` maps URLs to
pages rendered from ``templates`` (jinja2, autoescaped); ``server`` binds, prints the URL and
runs uvicorn. Starlette and uvicorn load only here: no other command pays for them.
"""
