"""``python -m streams worker [faust worker options]``: run the stream worker.

Settings come from ``GRIDHUB_*`` environment variables (see :mod:`gridhub.settings`).
"""

from __future__ import annotations

import sys

from gridhub.settings import SettingsError, get_settings

_FAUST_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warn", "ERROR": "error"}


def main(argv: list[str] | None = None) -> None:
    """Start the Faust worker of :func:`streams.app.create_app`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "worker":
        print("usage: python -m streams worker [faust worker options]", file=sys.stderr)
        raise SystemExit(2)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    if settings.streams_uvloop:
        # bench/pipeline.py, median of five runs each on the 2-core machine: 5,929 matters/s
        # against 4,981 on asyncio's loop (its socket writes and callbacks are in C)
        import mode.loop

        mode.loop.use("uvloop")
    from streams.app import create_app

    app = create_app(settings)
    sys.argv = [
        "streams",
        "worker",
        "--loglevel",
        _FAUST_LEVELS.get(settings.log_level, "info"),
        "--without-web" if not settings.streams_web else "--web-port",
        *([] if not settings.streams_web else [str(settings.streams_port)]),
        *args[1:],
    ]
    app.main()


if __name__ == "__main__":
    main()
