"""glibc allocator tuning for long-running processes that render audio in threads.

glibc gives each new thread its own malloc arena (up to 8 per core). Rendering allocates and frees blocks of a
few hundred KiB; spread over many arenas the freed space is not reused across them, and a worker's resident size
creeps up by tens of MiB per long track (bench/memory.py). Capping the arenas, as ``MALLOC_ARENA_MAX=2`` does,
keeps it flat (one arena: +9 MiB per 300 s track above a warm worker; two: +18; glibc default: +20 and
climbing). ``mallopt`` does the same from inside the process, before any worker threads exist.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's <malloc.h>


def cap_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at ``arenas`` (0 leaves the default). An explicit ``MALLOC_ARENA_MAX`` in the
    environment wins. Returns whether the cap was applied; a no-op off glibc."""
    if arenas <= 0 or "MALLOC_ARENA_MAX" in os.environ:
        return False
    # the process's own symbols include the C library's: no library search (find_library runs ldconfig)
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    applied = mallopt is not None and mallopt(M_ARENA_MAX, arenas) == 1
    if applied:
        log.debug("malloc arenas capped at %d", arenas)
    return applied
