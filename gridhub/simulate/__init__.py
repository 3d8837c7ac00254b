"""``gridhub simulate``: realistic matters over the city and the other actors playing their
parts, driving the system only through its public interfaces (intake HTTP, the dispatch
API, wallboard WebSocket acknowledgements). Its only other step is the operator's set-up:
issuing its own tokens through :mod:`gridhub.auth`, as ``gridhub token issue`` would.

* :mod:`.scenario` — the scenario files (``scenarios/*.yaml``) and their model;
* :mod:`.plan` — the pure, seeded plan: matters and every actor's script;
* :mod:`.clock` — accelerated simulated time;
* :mod:`.client` — httpx clients with retries on 429/503 (honouring Retry-After);
* :mod:`.actors` — the actors (intake systems, hubs, departments, operators, citizens);
* :mod:`.runner` — the asyncio run with a progress bar;
* :mod:`.report` — the dispatch API's report at the end, next to the seed's figures.

Time in a replay (``time.mode: historic``): intake takes a record's own time for hotline
calls, app submissions and patrol reports, so matters are received back-dated over the
seed's period (Open311 has no such field and is left out). The dispatch API stamps every
action with the server's clock, though, so sign-for, resolution and rating count in the
month the replay runs, and the SLA clocks that start at receipt have long run out (every
first owner's deadlines fire at once: warnings, overdue, ladder). Totals are right;
monthly completion and on-time rates of a replay are not meaningful. ``--live`` stamps
everything now instead.
"""
