"""tapegrad.nn.parallel: DistributedDataParallel (data parallelism over tapegrad.distributed, on MPI).
Loaded on first use, so that `import tapegrad.nn` does not pay for it."""

__all__ = ["DistributedDataParallel"]


def __getattr__(name):
    if name == "DistributedDataParallel":
        from .distributed import DistributedDataParallel

        return DistributedDataParallel
    if name == "distributed":
        import importlib

        return importlib.import_module(f"{__name__}.distributed")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
