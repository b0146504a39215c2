"""Inputs of the pipeline benchmark from the shared data set (numpy only): the targets of the
canonical static workload as H×W arrays (NaN where not in train_idx_N), the 20 canonical
initial points as (y, x), and a 1024×1024 image for the memory test."""
import sys
import numpy as np

data, out = sys.argv[1], sys.argv[2]
truth = np.load(f"{data}/truth_ratio.npy").astype(np.float64)
for n in (500, 2000):
    idx = np.load(f"{data}/train_idx_{n}.npy")
    t = np.full(truth.shape, np.nan)
    i, j = idx // 113, idx % 113
    t[i + 8, j + 8] = truth[i + 8, j + 8]
    np.save(f"{out}/targets_{n}.npy", t)
init = np.load(f"{data}/al_init_idx_20.npy")
np.save(f"{out}/init_20.npy", np.stack([init // 113 + 8, init % 113 + 8], axis=1).astype(np.int32))
img = np.load(f"{data}/image.npy").astype(np.float32)
big = np.tile(img, (8, 8)) + np.random.default_rng(0).normal(0, 0.01, (1024, 1024)).astype(np.float32)
np.save(f"{out}/image_1024.npy", big)
