"""`python -m torch.distributed.run ... tests/training/ddp_checked.py CONFIG OUT`: grasp_core.train with every tensor
handed to the all-reduce checked. Each must live on the model's device AND have been made with a device named: a
tensor built on the default device lands on the CPU, which on a GPU node NCCL rejects at the first step; on this
CPU box the model's device is the CPU too, so where a tensor was made is what gives such a bug away here."""

from __future__ import annotations

import json
import sys
import weakref
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from grasp_core.training import parallel
from grasp_core.training.run import main

FACTORIES = {torch.tensor, torch.zeros, torch.ones, torch.full, torch.empty, torch.as_tensor, torch.arange}
implicit: set[int] = set()  # ids of live tensors made by a factory without `device=`


class TagImplicit(TorchFunctionMode):
    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in FACTORIES and kwargs.get("device") is None and isinstance(out, torch.Tensor):
            implicit.add(id(out))
            weakref.finalize(out, implicit.discard, id(out))
        return out


real = parallel.DataParallel.all_reduce_
MODEL_DEVICE = torch.device(json.loads(open(sys.argv[1]).read())["device"])  # the config names it (cpu here)


def checked(self: parallel.DataParallel, tensors: list[torch.Tensor]) -> None:
    for t in tensors:
        assert t.device == MODEL_DEVICE, f"all_reduce got a tensor on {t.device}, the model is on {MODEL_DEVICE}"
        assert id(t) not in implicit, "all_reduce got a tensor made without a device (it lands on the default one)"
    real(self, tensors)


parallel.DataParallel.all_reduce_ = checked  # type: ignore[method-assign]

if __name__ == "__main__":
    with TagImplicit():
        sys.exit(main(sys.argv[1:]))
