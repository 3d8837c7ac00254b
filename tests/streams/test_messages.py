"""The worker's record builders give exactly what the generic CloudEvents encoder gives."""

from __future__ import annotations

from datetime import UTC, datetime

from gridhub.cloudevents import CloudEvent, encode
from streams import messages

AT = datetime(2026, 2, 16, 9, 30, tzinfo=UTC)


def test_a_department_task_is_the_encoded_cloud_event() -> None:
    task = {"matter_id": "M1", "department": "SLJ", "state": "assigned"}
    built = messages.task_record("M1", 3, "SLJ", task, AT.isoformat().encode())
    expected = encode(
        CloudEvent.new(
            "dept.task",
            1,
            source=messages.SOURCE,
            data=task,
            subject="M1",
            id="M1:3:SLJ",
            time=AT,
            extensions={"department": "SLJ"},
        )
    )
    assert built == expected


def test_a_record_without_subject_has_no_key_and_no_subject_header() -> None:
    delta = {"kind": "calendar"}
    built = messages.delta_record(delta, "calendar:2031", None, AT.isoformat().encode())
    expected = encode(
        CloudEvent.new(
            "wallboard.delta",
            1,
            source=messages.SOURCE,
            data=delta,
            id="calendar:2031",
            time=AT,
        )
    )
    assert built == expected
    assert built.key is None
    assert all(name != "ce_subject" for name, _ in built.headers)
