#!/usr/bin/python3
"""rbm_torch.py V H B BATCHES: CD-1 in PyTorch on the CPU (Gaussian
visibles, sigma 1, f32) written for speed: every product into buffers
allocated once (torch.mm/addmm with out=, in-place sigmoid and sampling),
the weight gradient as one product of the stacked phases; timed over
BATCHES minibatches after one warm-up; prints examples per second."""
import os
import sys
import time

import torch

V, H, B, n = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(os.cpu_count())
torch.manual_seed(1)
data = torch.randn(B * (n + 1), V)
W = 0.01 * torch.randn(V, H)
vb, hb = torch.zeros(V), torch.zeros(H)
uW = torch.zeros(V, H)
lr, mom = 1e-3, 0.9
Z = torch.empty(2 * B, V)        # [X; v]
P = torch.empty(2 * B, H)        # [p0; -p1]
h = torch.empty(B, H)
u = torch.empty(B, H)


def step(X):
    Z[:B].copy_(X)
    p0, p1, v = P[:B], P[B:], Z[B:]
    torch.addmm(hb, X, W, out=p0).sigmoid_()
    torch.lt(u.uniform_(), p0, out=h)
    torch.addmm(vb, h, W.t(), out=v).add_(torch.randn(B, V))
    torch.addmm(hb, v, W, out=p1).sigmoid_()
    vb.add_((X - v).mean(0), alpha=lr)
    hb.add_((p0 - p1).mean(0), alpha=lr)
    p1.neg_()
    uW.mul_(mom).addmm_(Z.t(), P, alpha=lr / B)
    W.add_(uW)


step(data[:B])
t = time.time()
for k in range(1, n + 1):
    step(data[k * B:(k + 1) * B])
print("%.0f" % (n * B / (time.time() - t)))
