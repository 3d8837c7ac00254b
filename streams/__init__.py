"""The stream processors: intake and commands in, events, department tasks, alerts, wallboard
deltas and Redis projections out. Start with ``python -m streams worker``; the Faust app is
built by :func:`streams.app.create_app`."""
