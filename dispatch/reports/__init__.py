"""Leaders' reports: the 三率 and counters by township, village, department, category and
month, and the monthly city-wide notice (通报) as CSV and printable HTML.

:mod:`.compute` is pure (counters in, rows out, rates from :mod:`gridhub.domain.kpis`);
:mod:`.load` reads the daily KPI hashes from Redis; :mod:`.render` writes CSV and HTML.
"""
