"""torch.autograd.graph: the node type of the tape, and version counters. Saved-tensor hooks (and
save_on_cpu, built on them), gradient edges and multi-grad hooks are not implemented: they raise
NotImplementedError naming themselves."""
import abc

from .function import AccumulateGrad, Function

__all__ = ["Node", "increment_version"]


class Node(abc.ABC):
    """What `tensor.grad_fn` is an instance of: every recorded operator (and the AccumulateGrad of
    `next_functions`). Its API (name, next_functions, metadata, register_hook, register_prehook) is
    the nodes' own."""


Node.register(Function)
Node.register(AccumulateGrad)


def increment_version(tensor):
    """Bump the version counter of `tensor` (and its views), as an in-place operation would: backward
    then refuses to use a value saved before."""
    for t in (tensor,) if not isinstance(tensor, (list, tuple)) else tensor:
        t._version_ctr.v += 1


_NOT_IMPLEMENTED = ("saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "register_multi_grad_hook",
                    "allow_mutation_on_saved_tensors", "GradientEdge", "get_gradient_edge")


def __getattr__(name):
    if name in _NOT_IMPLEMENTED:
        raise NotImplementedError(f"tapegrad does not implement torch.autograd.graph.{name}")
    raise AttributeError(f"module 'tapegrad.autograd.graph' has no attribute '{name}'")
