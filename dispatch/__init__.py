"""The Dispatch API: the FastAPI service through which departments, hubs, operators,
supervisors, leaders and citizens act on matters.

Reads come from the Redis projections that streams/ maintains; every action becomes a
command on ``matters.commands`` that streams/ applies. Build the app with
:func:`dispatch.app.create_app`; run it with ``python -m dispatch``.
"""
