#!/usr/bin/python3
"""rbm_numpy.py V H B BATCHES: a straightforward NumPy CD-1 (Gaussian
visibles, sigma 1, f32), as a user would write it, timed over BATCHES
minibatches after one warm-up; prints examples per second."""
import sys
import time

import numpy as np

V, H, B, n = (int(a) for a in sys.argv[1:5])
rng = np.random.default_rng(1)
data = rng.normal(size=(B * n, V)).astype(np.float32)
W = (0.01 * rng.normal(size=(V, H))).astype(np.float32)
vb = np.zeros(V, np.float32)
hb = np.zeros(H, np.float32)
uW = np.zeros_like(W)
lr, mom = np.float32(1e-3), np.float32(0.9)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def step(X):
    global W, uW, vb, hb
    p0 = sigmoid(X @ W + hb)
    h = (rng.random(p0.shape, dtype=np.float32) < p0).astype(np.float32)
    v = vb + h @ W.T + rng.standard_normal(X.shape, dtype=np.float32)
    p1 = sigmoid(v @ W + hb)
    uW = mom * uW + lr / B * (X.T @ p0 - v.T @ p1)
    W += uW
    vb += lr * (X - v).mean(0)
    hb += lr * (p0 - p1).mean(0)


step(data[:B])
t = time.time()
for k in range(n):
    step(data[k * B:(k + 1) * B])
print("%.0f" % (n * B / (time.time() - t)))
