"""Benchmarks: a synthetic portfolio (`dataset`) and the timings measured on it."""
