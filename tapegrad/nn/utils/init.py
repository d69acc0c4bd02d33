"""torch.nn.utils.skip_init: build a module without running its parameter initialisation."""
import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    from ..modules.module import Module

    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    # tapegrad has no meta device: the module is built on its final device, then its storage is
    # replaced by uninitialised memory, as PyTorch's to_empty() leaves it
    return module_cls(*args, device=final_device, **kwargs).to_empty(device=final_device)
