"""How the engine runs on the CPU: thread count, denormal floats, the memory allocator and the memory free."""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import threading
from typing import Iterator

import psutil
import torch


CGROUP = "/sys/fs/cgroup"  # Linux's control group v2 of this process (a container's memory limit)


def available_memory() -> int:
    """Bytes of memory the system can give this process now without swapping (what it holds already not
    counted): Linux's MemAvailable, and its counterparts elsewhere, through psutil; in a container whose memory
    is limited (cgroup v2), no more than the limit less what the container uses."""
    free = int(psutil.virtual_memory().available)
    try:
        with open(f"{CGROUP}/memory.max", encoding="ascii") as limit, \
                open(f"{CGROUP}/memory.current", encoding="ascii") as used:
            cap, current = limit.read().strip(), used.read().strip()
    except OSError:
        return free
    return free if cap == "max" else min(free, max(0, int(cap) - int(current)))


def physical_cores() -> int:
    """Physical cores available to this process (hyper-threads share a core's vector units, so PyTorch's
    conv kernels gain nothing from them)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            lines = cpuinfo.readlines()
    except OSError:
        lines = []
    pairs = set()
    physical = None
    for line in lines:
        if line.startswith("physical id"):
            physical = line.split(":")[1].strip()
        elif line.startswith("core id"):
            pairs.add((physical, line.split(":")[1].strip()))
    if pairs:
        return max(1, min(available, len(pairs)))
    return max(1, available)


def configure_threads(threads: int | None = None) -> int:
    """Set PyTorch's intra-op threads and return the number used: ``threads``, else ``OMP_NUM_THREADS`` when
    set (the user's choice, which PyTorch itself honours too), else the physical cores."""
    threads = threads or _threads_from_environment() or physical_cores()
    torch.set_num_threads(threads)
    return threads


def _threads_from_environment() -> int | None:
    try:
        threads = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:  # unset, or not a number (OpenMP also accepts lists such as "4,2"): not a choice we read
        return None
    return threads if threads > 0 else None


def flush_denormals() -> None:
    """Treat denormal floats as zero on the CPU, on the calling thread and on torch's worker threads it starts.

    The attention's softmax (scale 10) leaves many weights below 1e-38; x86 handles such denormals in microcode,
    which made a 256x256 generator step 5x slower (its attention matrix products 40x). Flushing them changes
    values by less than 1e-38. The flag is per thread, and torch's intra-op workers copy it from the thread that
    starts them, at their first parallel op, so it is set when the engine is imported (below) and left on: a
    flag switched off again after a fill would reach workers started later (a 256x256 training step spent
    11.9 s instead of 0.22 s in bmm when only the calling thread flushed). Entry points call it again for
    threads that existed before the import.
    """
    torch.set_flush_denormal(True)


flush_denormals()


# glibc's mallopt parameters and their defaults
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
# The ceiling of glibc's own sliding mmap threshold. Once any of these parameters is set by mallopt the threshold
# no longer slides, so a block leaves it where it would have slid to for large buffers.
_MMAP_THRESHOLD_CEILING = 32 * 1024 * 1024
_NEVER_TRIM = 2**31 - 1
_reuse_lock = threading.Lock()
_reuse_depth = 0


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (whose allocator the settings below are for), else None."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except (AttributeError, ValueError, OSError):
        return None


_LIBC = _glibc()


@contextlib.contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """Inside the block, memory a step frees (a layer, a round of the texture stage) is kept for the next one
    instead of being handed back to the operating system; at the end it is all handed back at once (glibc
    only; elsewhere nothing changes).

    By default glibc maps every buffer above a threshold afresh and unmaps it when freed, so each large tensor
    pays a page fault per 4 KB on first write: that cost 25 % of a 1024x1024 fill and of the dense attention
    op on a 2-core CPU (measured by `bench`), and a quarter of the texture stage's time on a 12 MP photo. The
    texture stage once kept buffers up to 32 MB only, because keeping all sizes raised the pedestal fill's peak
    memory from 2.4 to 3.0 GB (whole-box temporaries of other sizes were kept beside the next ones). Since its
    whole-box filters run in bands (``texture.BLUR_BAND_PIXELS``), all sizes cost it no memory: on a 48 MP photo
    with lines the stage took 37 s instead of 59 s, its peak 4.1 GB over its start instead of 4.4 (the whole
    fill's process 6.6 instead of 6.3 GB); the pedestal's fill peaked at 1.34 GB either way. Nested and
    concurrent blocks share the setting.
    """
    global _reuse_depth
    if _LIBC is None:
        yield
        return
    with _reuse_lock:
        _reuse_depth += 1
        if _reuse_depth == 1:
            _LIBC.mallopt(_M_MMAP_MAX, 0)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM)
    try:
        yield
    finally:
        with _reuse_lock:
            _reuse_depth -= 1
            if _reuse_depth == 0:
                _LIBC.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                _LIBC.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_CEILING)
                _LIBC.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                _LIBC.malloc_trim(0)
