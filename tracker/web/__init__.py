"""`tracker serve`: the reading list, the paper inbox and the week in a browser.

`app.create_app` builds the Starlette application over an open database; its routes call the
same core functions as the CLI (tracker.items, tracker.papers, tracker.report). `security` holds
the rules that keep other web pages the browser opens from using it; `server` runs it with uvicorn.
Starlette, Jinja2 and uvicorn are imported only by `tracker serve`.
"""
