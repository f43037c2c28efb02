#!/usr/bin/python3
"""mlp_torch.py FILE EPOCHS: the net of Figure 3.1's (f) in PyTorch on the
CPU, written as a user would: 3072-1000-10, logistic hidden units, softmax
output (cross-entropy), SGD with momentum 0.9, rate 0.01, L2 1e-4
(weight_decay), minibatches of 100 in a shuffled order, on the records of
FILE (a tiny stream) standardised per input.  Times each epoch after the
data is in memory and prints the mean seconds of an epoch and the last
epoch's training loss."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "formats"))
from tiny_stream import load  # noqa: E402

path, epochs = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(os.cpu_count())
torch.manual_seed(1)
d = load(path)
X = d["x"].reshape(len(d), -1).astype(np.float32)
X = (X - X.mean(0)) / np.maximum(X.std(0), 1e-6)
X, y = torch.from_numpy(X), torch.from_numpy(d["label"].astype(np.int64))
net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 1000), torch.nn.Sigmoid(), torch.nn.Linear(1000, 10))
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
loss_fn = torch.nn.CrossEntropyLoss()
times = []
for e in range(epochs):
    start = time.perf_counter()
    order = torch.randperm(len(y))
    total = 0.0
    for i in range(0, len(y), 100):
        idx = order[i:i + 100]
        opt.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    times.append(time.perf_counter() - start)
print(f"{sum(times) / len(times):.2f} {total / len(y):.4f}")
