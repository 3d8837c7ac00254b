"""The live wallboard: a websockets gateway fanning deltas out to the city hub, the township
and village hubs and the departments, and the command-hall page it serves.

See :mod:`wallboard.app` (the gateway), :mod:`wallboard.feeder` (Kafka → Redis stream),
:mod:`wallboard.protocol` (the frames) and ``wallboard/web/`` (the page).
"""
