"""Driving schemathesis over a whole OpenAPI schema, one place for every fuzz test.

    operations, failures = fuzz_all_operations(schema, headers, examples=25)
    assert not failures, "\\n".join(failures)

Uses schemathesis' Python API (its lazy pytest fixture loader does not work with pytest 9's
nodes): positive and negative examples of every operation, any 5xx is a failure; every
failing operation is collected so a test fails once with the full list.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.schemas import BaseSchema


def fuzz_all_operations(
    schema: BaseSchema, headers: dict[str, str], examples: int, detail: int = 600
) -> tuple[int, list[str]]:
    """Fuzz every operation of ``schema``; return (operations seen, failure descriptions)."""
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @hsettings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                continue  # no negative input exists (an operation without parameters)
            except Exception as exc:  # collect every failing operation, then fail once
                failures.append(f"{operation.label} [{mode}]: {str(exc)[:detail]}")
    return operations, failures
