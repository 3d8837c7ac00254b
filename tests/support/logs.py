"""What a failing test prints of a service's log: its warnings and errors, not the chatter."""

from __future__ import annotations


def log_warnings(text: str, last: int = 300) -> str:
    """The last ``last`` lines of ``text`` that are not INFO records nor Faust's start-up
    tables (each line cut at 300 characters)."""
    lines = text.splitlines()
    kept = [line[:300] for line in lines if "[INFO]" not in line and line[:1] not in "|+"]
    return "\n".join(kept[-last:])
