"""Choosing where the model runs and at what precision."""

import logging
from functools import cache

import torch

from mtst.errors import MtstError
from mtst.streams import policy_threads

log = logging.getLogger("mtst")
PRECISIONS = ("fp32", "bf16")


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA when present, else CPU; `requested` ("cpu", "cuda", "cuda:1") forces one."""
    if requested in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise MtstError(f"device {requested!r} was asked for but CUDA is not available; use --device cpu")
    return device


@cache
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def bf16_supported(device: torch.device) -> bool:
    """True where bf16 matrix work runs natively (AVX-512 BF16 or AMX on CPU, Ampere+ on CUDA)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool({"avx512_bf16", "amx_bf16"} & _cpu_flags())


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision actually used: bf16 falls back to fp32, with one warning, where unsupported."""
    if precision not in PRECISIONS:
        raise MtstError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    if precision == "bf16" and not bf16_supported(device):
        log.warning("bf16 is not supported natively on this %s; running in fp32 instead", device.type)
        return "fp32"
    return precision


def apply_thread_policy() -> int:
    """Set torch's CPU threads once, at an entry point (a CLI command, the server): mtst.streams.policy_threads.

    The library itself never changes them, so a caller's torch.set_num_threads stays in force.
    """
    threads = policy_threads()
    torch.set_num_threads(threads)
    return threads
