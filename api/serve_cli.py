"""`keepcab serve`: the live server on the embedded default, in one process.

One process on purpose: the dispatcher inside it is the single writer of the
store, so running several workers against one database would mean several
dispatchers making conflicting decisions. Scale-out uses replicas behind a
leader lease instead (the Redis set-up), not uvicorn workers.
"""

from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, min=1, max=65535),
    migrate: bool = typer.Option(
        True, help="Bring the schema to head first (the embedded set-up's one-command start)."
    ),
    log_level: str = typer.Option("info"),
) -> None:
    """Run the API, the dispatcher, the phone webhook and the console (settings: KEEPCAB_*)."""
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(migrate=migrate), host=host, port=port, log_level=log_level, workers=1)
