"""`tapegrad info`: version, array libraries, BLAS and threads, devices, where datasets are found."""
import os
import platform
import sys


def _blas():
    try:
        from threadpoolctl import threadpool_info

        libs = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                for i in threadpool_info() if i.get("user_api") == "blas"]
        if libs:
            return ", ".join(libs)
    except ImportError:
        pass
    import numpy as np

    try:
        cfg = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        return f"{b.get('name')} {b.get('version', '')}".strip()
    except Exception:  # older NumPy
        return "unknown"


def lines():
    import numpy as np

    import tapegrad

    out = [f"tapegrad       {tapegrad.__version__} ({os.path.dirname(tapegrad.__file__)})",
           f"python         {platform.python_version()} ({sys.executable})",
           f"numpy          {np.__version__}",
           f"BLAS           {_blas()}",
           f"threads        {tapegrad.get_num_threads()} (cpu count {os.cpu_count()})"]
    from . import _backend

    cp = _backend.cupy()
    out.append(f"cupy           {cp.__version__ if cp else 'not available'}")
    devices = ["cpu"] + ([f"cuda:{i}" for i in range(tapegrad.cuda.device_count())] if cp else [])
    out.append(f"devices        {', '.join(devices)}")
    for extra in ("safetensors", "tqdm", "matplotlib", "tensorboard", "mpi4py", "ml_dtypes"):
        try:
            mod = __import__(extra)
            out.append(f"{extra:14s} {getattr(mod, '__version__', 'installed')}")
        except ImportError:
            out.append(f"{extra:14s} not installed")
    try:
        from .datasets import search_paths

        for name, paths in search_paths().items():
            out.append(f"{'data ' + name:14s} {paths}")
    except ImportError:
        pass
    return out


def main(argv=None):
    for line in lines():
        print(line)
    return 0
