"""Intake connectors: the HTTP intake service (hotlines, citizen app, patrol, Open311) and the
batch importer. Every channel normalises into :class:`gridhub.intake.IntakeMatter` and
publishes to ``matters.intake`` through :class:`connectors.service.IntakeService`.

Run the service with ``python -m connectors``; import files with ``gridhub import FILE``.
"""
