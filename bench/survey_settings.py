"""Production settings for the survey load benchmark.

Everything is `cem.settings` under DJANGO_ENV=production, except:

- the per-IP budget of the public pages is so large it is never reached (every request of the
  benchmark comes from 127.0.0.1), but the limiter still counts what it counts (a stored
  submission uses up its link and spends no budget; anything else would be counted), so its
  cost is measured;
- without REDIS_URL the cache is each process's memory instead of files on disk (production
  runs Redis; a file cache would measure the disk, not the product);
- tasks go to their own queue, which only the benchmark's worker consumes;
- the addresses add the write floor (bench/urls.py).
"""

from cem.settings import *  # noqa: F403
from cem.settings import REDIS_URL

FEEDBACK = {"PUBLIC_RATE_PER_MINUTE": 10**9}

if not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_DEFAULT_QUEUE = "bench-survey"

ROOT_URLCONF = "bench.urls"
