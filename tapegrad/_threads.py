"""Thread count of the BLAS behind NumPy (torch.get_num_threads / set_num_threads)."""
import os

_threads = [None]


def get_num_threads():
    if _threads[0] is None:
        try:
            from threadpoolctl import threadpool_info

            info = threadpool_info()
            if info:
                return info[0]["num_threads"]
        except ImportError:
            pass
        return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    return _threads[0]


def set_num_threads(n):
    _threads[0] = int(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(n))
    except ImportError:
        pass
