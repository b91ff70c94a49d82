"""Worker (2 ranks): rank 1 fails in the way named by argv[1] while rank 0 waits in a collective."""
import os
import signal
import sys
import time

import norch
import norch.distributed as dist

if sys.argv[1] == "early" and os.environ.get("RANK") == "1":
    raise ImportError("rank 1 fails before init_process_group")
dist.init_process_group()
rank = dist.get_rank()
# One write per line: under plain mpirun the ranks' outputs are merged write by write.
sys.stdout.write(f"rank {rank}: started (RANK={os.environ.get('RANK')}, LOCAL_RANK={os.environ.get('LOCAL_RANK')})\n")
sys.stdout.flush()
if rank == 1:
    time.sleep(0.2)
    how = sys.argv[1]
    if how == "raise":
        raise ValueError("rank 1 fails on purpose")
    if how == "exit":
        sys.exit(3)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
t = norch.ones(4)
dist.all_reduce(t)           # rank 0 would wait here forever for a rank that died
dist.barrier()
sys.stdout.write(f"rank {rank}: finished\n")
