"""Benchmarks (not tests): wheelwright beside uv, pip and pip-tools."""
