"""tapegrad.utils.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data)."""
from ._collate import BatchMismatchError
from .dataloader import DataLoader, WorkerInfo, _DatasetKind, default_collate, default_convert, get_worker_info
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
           "random_split", "BatchMismatchError", "WorkerInfo"]


def __getattr__(name):
    if name == "DistributedSampler":  # tapegrad/utils/data/distributed.py, when present
        import importlib

        try:
            return importlib.import_module(f"{__name__}.distributed").DistributedSampler
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.distributed":
                raise
            raise AttributeError("tapegrad does not implement torch.utils.data.DistributedSampler") from None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
