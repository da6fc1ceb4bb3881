"""Factories for the test suite, one module per app; import them from here."""

from .core import *  # noqa: F403
