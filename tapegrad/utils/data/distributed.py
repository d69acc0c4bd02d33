"""DistributedSampler: each rank's share of a dataset, for data-parallel training."""
import math

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Rank `rank`'s share of the indices of `dataset`, one of `num_replicas` disjoint shares of equal size.

    With shuffle, every rank draws the same permutation (a NumPy generator seeded with seed + epoch: call
    set_epoch(epoch) at each epoch for a new order) and takes every num_replicas-th index from position
    `rank`. Without drop_last, the list is padded by repeating its start so that the shares are equal;
    with drop_last, the tail that does not divide evenly is dropped. PyTorch's layout, except that its
    permutation comes from torch.randperm (tapegrad's numbers cannot match PyTorch's random stream).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle, self.seed = shuffle, seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                indices = np.concatenate([indices] + [indices] * (pad // max(n, 1)) + [indices[:pad % max(n, 1)]])
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch whose permutation to draw (same seed and epoch, same permutation on every rank)."""
        self.epoch = epoch
