"""Run under `mpirun -n N` (N >= 2). Rank 1 raises while the others wait in a collective; or, with the
argument `mismatch`, the ranks pass different shapes to all_reduce and nobody catches the error; or, with
`exit`, rank 1 calls sys.exit(3). Each way the job must end promptly, non-zero, with the traceback (if
any) printed once."""
import sys

import tapegrad as torch
import tapegrad.distributed as dist

dist.init_process_group(backend="mpi")
t = torch.ones(3)
dist.all_reduce(t)
if sys.argv[1:] == ["mismatch"]:
    dist.all_reduce(torch.zeros(4 + dist.get_rank()))  # raises on every rank, printed by rank 0 only
elif dist.get_rank() == 1 and sys.argv[1:] == ["exit"]:
    sys.exit(3)
elif dist.get_rank() == 1:
    raise ValueError("rank one broke on purpose")
dist.all_reduce(t)  # the other ranks wait here for rank 1, which never comes
print("UNREACHABLE", flush=True)
