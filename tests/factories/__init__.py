"""Factories for the test suite, one module per app; import them from here."""

from .complaints import *  # noqa: F403
from .core import *  # noqa: F403
from .digests import *  # noqa: F403
from .feedback import *  # noqa: F403
