"""Production settings for the survey load benchmark, with the per-IP budget off.

Every request of the benchmark comes from 127.0.0.1, so the public pages' rate limit would
answer 429 to nearly all of them; everything else is exactly `cem.settings` under
DJANGO_ENV=production.
"""

from cem.settings import *  # noqa: F403

FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 0}
