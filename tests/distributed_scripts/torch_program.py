"""A PyTorch program written for torchrun (gloo, env://, DistributedDataParallel, DistributedSampler),
unchanged: run it with `mpirun -n 2 tapegrad run torch_program.py`."""
import os

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main():
    dist.init_process_group(backend="gloo", init_method="env://")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert int(os.environ["LOCAL_RANK"]) == rank and int(os.environ["WORLD_SIZE"]) == world
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 10, generator=g)
    y = (x.sum(1) > 0).long()
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=8, sampler=sampler)
    torch.manual_seed(0)
    model = DDP(nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2)))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean()
    w = model.module[0].weight.detach().clone()
    dist.broadcast(w, src=0)
    same = torch.equal(w, model.module[0].weight.detach())
    if os.environ.get("FAIL_RANK") == str(rank):
        raise RuntimeError(f"rank {rank} failed after training")
    dist.barrier()
    if rank == 0:
        print(f"trained: accuracy {acc.item():.2f}, parameters identical on all ranks: {same}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
