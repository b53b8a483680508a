"""Giving hashing memory back to the system once sign-ins pause (glibc only; elsewhere nothing happens).

Each argon2id hash takes ``argon2_memory_kib`` (19 MiB) from malloc. Kept in the hashing thread's arena, the
next hash reuses it: handing it back after every hash (mmap) costs each hash its page faults, about a fifth
more time (24 → 29.5 ms measured on one core). So memory stays while sign-ins come, and when the hashing
threads have been idle for a moment, ``give_back`` runs on each of them: it lowers glibc's trim threshold,
frees one chunk large enough to make glibc trim that thread's heap, and raises the threshold again. A burst of
logins then no longer leaves 19 MiB per hashing thread in every worker for good (server RSS under get-user
after a login: 173 → 155 MiB a second later, `tenantry serve` on the quick bench database).

The thresholds are process-wide: allocations of 32 MiB and more are mmapped (returned when freed), heaps
are trimmed past 64 MiB of free top, and glibc's own adjustment of both is off (a fixed threshold keeps a
hash's 19 MiB in the arena, which is the point).
"""

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_AT = 32 << 20
_TRIM_PAST = 64 << 20
_TRIM_NOW = 128 << 10
"""A free of this size reaches the heap's trim check (glibc trims a thread heap on frees of 64 KiB and more)."""


def _glibc() -> ctypes.CDLL | None:
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
    except (ValueError, OSError):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


_libc = _glibc()


def keep_hash_memory() -> bool:
    """Fix the thresholds described above; False where this is not glibc (then ``give_back`` is never due)."""
    if _libc is None:
        return False
    _libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_AT)
    _libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_PAST)
    return True


def give_back(threads: int) -> Callable[[], None]:
    """A task to run once on each of ``threads`` threads together: each trims its own heap, one of them the
    main arena too, and each restores the threshold on its way out (also when the barrier broke)."""
    assert _libc is not None
    libc = _libc
    # Every thread is held at the barrier, so each runs one of the tasks; a sign-in that starts meanwhile
    # breaks it after a second at most (a busy thread never arrives), and nothing is given back this time.
    arrived = threading.Barrier(threads, timeout=1.0)

    def task() -> None:
        try:
            if arrived.wait() == 0:
                libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_NOW)
            arrived.wait()
            chunk = libc.malloc(_TRIM_NOW)
            libc.free(chunk)
            if arrived.wait() == 0:
                libc.malloc_trim(0)
        except threading.BrokenBarrierError:
            pass
        finally:
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_PAST)  # glibc's mallopt takes its own lock

    return task
