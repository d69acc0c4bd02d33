"""Run under `mpirun -n N` (N >= 2): rank 1 raises while the others wait in a collective; the job must end
promptly, non-zero, with the traceback printed once."""
import tapegrad as torch
import tapegrad.distributed as dist

dist.init_process_group(backend="mpi")
t = torch.ones(3)
dist.all_reduce(t)
if dist.get_rank() == 1:
    raise ValueError("rank one broke on purpose")
dist.all_reduce(t)  # the other ranks wait here for rank 1, which never comes
print("UNREACHABLE", flush=True)
