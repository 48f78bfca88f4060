"""Data-parallel training under ``torchrun``: NCCL on GPUs, gloo on CPU; a no-op in one process."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist


@dataclass
class Distributed:
    """This process's place in the job (rank, world size, device) and the collectives it needs."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_environment(cls) -> "Distributed":
        """Join the process group ``torchrun`` describes (WORLD_SIZE, RANK, LOCAL_RANK), if any."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        cuda = torch.cuda.is_available()
        device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        if world > 1 and not torch_dist.is_initialized():
            torch_dist.init_process_group(backend="nccl" if cuda else "gloo")
        rank = torch_dist.get_rank() if world > 1 else 0
        return cls(rank=rank, world=world, device=device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` in DistributedDataParallel when there are several processes."""
        if self.world == 1:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def broadcast(self, value):
        """Rank 0's ``value`` on every rank."""
        if self.world == 1:
            return value
        box = [value]
        torch_dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_reduce_sum(self, values: list[float]) -> list[float]:
        """Element-wise sums of ``values`` over all ranks."""
        if self.world == 1:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch_dist.all_reduce(tensor)
        return tensor.tolist()

    def gather_batch(self, features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every rank's ``features`` (B, D) and ``labels`` (B,) concatenated in rank order: the global
        batch. Gradients flow back to each rank's own features (their sum over the ranks' losses),
        so a batch statistic such as EC-STFL gets the single-process gradient once DDP averages."""
        if self.world == 1:
            return features, labels
        from torch.distributed.nn.functional import all_gather

        every_label = [torch.empty_like(labels) for _ in range(self.world)]
        torch_dist.all_gather(every_label, labels.contiguous())
        return torch.cat(all_gather(features)), torch.cat(every_label)

    def barrier(self) -> None:
        if self.world > 1:
            torch_dist.barrier()

    def close(self) -> None:
        """Leave the process group (at the end of a run)."""
        if self.world > 1 and torch_dist.is_initialized():
            torch_dist.destroy_process_group()
