"""Data parallelism for the training loop: this process's rank under torchrun / accelerate launch, the device its
collectives run on, one all-reduce per step (gloo on CPU, nccl on GPU) and a barrier after rank 0 writes what
other ranks read. Without a launcher it is rank 0 of 1 and does nothing.

NCCL takes only tensors on this rank's GPU, so every tensor a collective sees is made on `device` (by `tensor`)
or already lives there (gradients): `all_reduce_` refuses any other, on CPU as on GPU, so a tensor built on the
default device is caught by the gloo tests, not at the first step of a cluster job."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as td

from ..errors import GraspError


@dataclass
class DataParallel:
    """This process's place in a data-parallel group (rank 0 of 1 without torchrun) and its model's device."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

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

    def place(self, device: torch.device) -> torch.device:
        """Where this rank's model lives: `device`, or under data parallelism on GPU, this rank's own GPU."""
        if device.type == "cuda" and self.world > 1:
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        self.device = device
        return device

    def tensor(self, values: list[float]) -> torch.Tensor:
        """A float32 tensor of `values` on this rank's device, for a collective."""
        return torch.tensor(values, dtype=torch.float32, device=self.device)

    def all_reduce_(self, tensors: list[torch.Tensor]) -> None:
        """Sum the tensors over all processes in place, as one flat buffer (one collective per step)."""
        if self.world == 1 or not tensors:
            return
        for t in tensors:
            if t.device != self.device:
                raise GraspError(
                    f"all_reduce: a tensor on {t.device}, but this rank's collectives run on "
                    f"{self.device} (make it with DataParallel.tensor)"
                )
        flat = torch.cat([t.reshape(-1).float() for t in tensors])  # (sum of numels,) on self.device
        td.all_reduce(flat)
        offset = 0
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()

    def barrier(self) -> None:
        """Wait for every rank: after rank 0 writes a file the others read next (a round's adapter)."""
        if self.world > 1:
            td.barrier(device_ids=[self.device.index or 0]) if self.device.type == "cuda" else td.barrier()
