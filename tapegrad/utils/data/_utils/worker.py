from ..dataloader import WorkerInfo, get_worker_info  # noqa: F401
