"""tapegrad.backends: PyTorch's backend flags, settable and truthful about availability."""
import types

from . import _backend

__all__ = ["cuda", "cudnn", "mps", "mkldnn", "openmp", "opt_einsum"]

cuda = types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                                                            allow_bf16_reduced_precision_reduction=True),
                             is_built=lambda: False, enable_flash_sdp=lambda enabled: None,
                             enable_mem_efficient_sdp=lambda enabled: None, enable_math_sdp=lambda enabled: None,
                             flash_sdp_enabled=lambda: False)
cudnn = types.SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                              is_available=lambda: _backend.cuda_available(), version=lambda: None)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = types.SimpleNamespace(is_available=lambda: False, enabled=False)
openmp = types.SimpleNamespace(is_available=lambda: False)
opt_einsum = types.SimpleNamespace(is_available=lambda: False, enabled=False, strategy=None)
