"""Data parallelism for the training loop: this process's rank under torchrun / accelerate launch, and one
all-reduce per step (gloo on CPU, nccl on GPU). Without a launcher it is rank 0 of 1 and does nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as td


@dataclass
class DataParallel:
    """This process's place in a data-parallel group (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def setup(cls) -> DataParallel:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        if not td.is_initialized():
            td.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return cls(td.get_rank(), td.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))

    def all_reduce_(self, tensors: list[torch.Tensor]) -> None:
        """Sum the tensors over all processes in place, as one flat buffer (one collective per step)."""
        if self.world == 1 or not tensors:
            return
        flat = torch.cat([t.reshape(-1).float() for t in tensors])
        td.all_reduce(flat)
        offset = 0
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()
