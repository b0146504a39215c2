"""The VAE benchmark's anchor: the same architecture, data, normalization, loss and
training schedule as `vae-encode train`, in PyTorch (float32), timed per epoch.

usage: anchor_vae.py DATA.npy EPOCHS [THREADS [SEED]]  -> one JSON line on stdout
"""
import json
import sys
import time

import numpy as np
import torch

data = np.load(sys.argv[1]).astype(np.float32)
epochs = int(sys.argv[2])
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
torch.manual_seed(seed)
rng = np.random.default_rng(seed)

n, d = data.shape
x = (data - data.mean()) / data.std()          # the toolkit's built-in normalization
order = rng.permutation(n)
held = int(round(0.1 * n))
xv, xt = torch.tensor(x[order[:held]]), torch.tensor(x[order[held:]])
latent, hidden = 2, 128


def mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


enc = mlp([d, hidden, hidden, 2 * latent])
dec = mlp([latent, hidden, hidden, d])
opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)


def loss_of(xb, sample=True):
    h = enc(xb)
    mu, lv = h[:, :latent], h[:, latent:]
    z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu) if sample else mu
    r = dec(z)
    rec = ((r - xb) ** 2).sum(1).mean()
    kl = (0.5 * (mu ** 2 + lv.exp() - 1 - lv)).sum(1).mean()
    return rec + kl


times, train_losses, val_losses = [], [], []
batch = 100
for epoch in range(epochs):
    t0 = time.perf_counter()
    perm = torch.randperm(xt.shape[0])
    total = 0.0
    for i in range(0, xt.shape[0], batch):
        xb = xt[perm[i:i + batch]]
        loss = loss_of(xb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * xb.shape[0]
    with torch.no_grad():   # the held-out loss, timed with the epoch as vae-encode's is
        val_losses.append(float(loss_of(xv, sample=False)))
    times.append(time.perf_counter() - t0)
    train_losses.append(total / xt.shape[0])

print(json.dumps({"anchor": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "epochs": epochs,
                  "seconds_per_epoch": float(np.median(times)), "train_loss": train_losses, "validation_loss": val_losses}))
