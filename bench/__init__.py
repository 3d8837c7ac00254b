"""Benchmarks: each module has main(quick) -> list of {name, value, unit, target, baseline?}."""
