"""Periodic detection for the core domain. Upper apps register their own scans here in their
AppConfig.ready(), so `run_scans` and the Celery beat run every scan without importing upward."""

SCAN_REGISTRY: dict = {}
