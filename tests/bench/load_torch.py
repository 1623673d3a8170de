#!/usr/bin/python3
"""The PyTorch peer of a whole gpt-sample run for bench-load.sh: the same
model as a state dict (torch.save), loaded with torch.load, then greedy
tokens from token 0 with sample_torch.py's KV cache.

    load_torch.py --save CKPT PT   write the checkpoint's configuration and
                                   parameters as PT (torch.save)
    load_torch.py PT N             load PT and print N greedy token ids; on
                                   stderr "load S" (the seconds of torch.load)
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sample_torch as st  # noqa: E402


def main(a):
    if len(a) == 3 and a[0] == "--save":
        config, params = st.read_state(a[1])
        torch.save({"config": config, "state_dict": params}, a[2])
        return
    if len(a) != 2:
        sys.exit(__doc__)
    t = time.perf_counter()
    sd = torch.load(a[0])
    load = time.perf_counter() - t
    model = st.GPT(state=(sd["config"], sd["state_dict"]))
    ids = st.generate_kv(model, [0], int(a[1]), 1)
    print(" ".join(map(str, ids)))
    print("load %.6f" % load, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
