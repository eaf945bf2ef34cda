"""Data-parallel context: torchrun's environment read once, and the few collective steps training needs.

A single process is a world of one, so the trainer calls the same functions either way.
"""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def shard(self, items):
        """This process's share: every size-th item, starting at its rank."""
        return items[self.rank :: self.size]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over processes."""
        if not self.distributed:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()

    def gather(self, obj) -> list:
        """Every process's object, in rank order, on every process."""
        if not self.distributed:
            return [obj]
        out = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def join_world(device: str | None) -> tuple[World, str | None]:
    """Start the process group when launched by torchrun; else a world of one.

    Returns the world and the device this process should use.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World(), device
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = (device is None or device.startswith("cuda")) and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = f"cuda:{local_rank}"
    else:
        device = "cpu"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend_for(use_cuda))
    return World(rank, size, local_rank), device


def backend_for(use_cuda: bool) -> str:
    """gloo on CPU. On GPUs NCCL, which takes only CUDA tensors, with gloo beside it for the CPU tensors
    the trainer also reduces (World.sum's totals, gathered objects)."""
    return "cpu:gloo,cuda:nccl" if use_cuda else "gloo"
