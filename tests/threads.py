"""Work run in several threads released together, each on its own database connection."""

import threading

from django.db import connection


def at_once(work, *, times: int = 2) -> tuple[list, list]:
    """Run `work()` in `times` threads released together: what they returned, and what they raised."""
    barrier = threading.Barrier(times)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as error:  # the caller decides which are expected
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
