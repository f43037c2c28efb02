#!/usr/bin/python3
"""mlp_torch_f.py TRAIN TEST [THREADS [HIDDEN [step|plateau]]]: Figure 3.1's (f) trained
to the end in PyTorch, as a user would write it, for its test accuracy
beside tiny-backprop's on the same data (issue "Supervised training that
converges"): 3072-1000-10 (HIDDEN 4000: (g)), logistic hidden units,
softmax output, SGD with momentum 0.9, L2 1e-4 (weight_decay), rate 0.01
cut tenfold at epochs 15 and 30, 45 epochs, minibatches of 100; the last
tenth of the training records in a seeded shuffle held out (as tiny's
--valid 0.1), inputs standardised by the other nine tenths, the epoch of
the lowest validation loss kept and scored once on TEST.  Prints one line
an epoch on stderr, then: test accuracy, best epoch, seconds.

plateau: instead, tiny-backprop's default schedule and make fig3.1's
penalty, written with PyTorch's own pieces: L2 0.003 on the weights only
(tiny's --l2 0.003; the biases free), ReduceLROnPlateau (factor 0.1,
patience 7: PyTorch cuts after patience + 1 epochs without a strictly lower
validation loss, tiny after --lr-patience 8), the run stopped rather than
cut a third time or after 10 epochs without a lower validation loss, 200
epochs at most.  No centring (tiny's --centre yes has no PyTorch
counterpart a user would reach for)."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "formats"))
from tiny_stream import load  # noqa: E402

train, test = load(sys.argv[1]), load(sys.argv[2])
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count())
torch.manual_seed(1)
X = train["x"].reshape(len(train), -1).astype(np.float32)
y = train["label"].astype(np.int64)
T = test["x"].reshape(len(test), -1).astype(np.float32)
order = np.random.default_rng(1).permutation(len(y))
nv = len(y) // 10
tr, va = order[:-nv], order[-nv:]
mu, sd = X[tr].mean(0), np.maximum(X[tr].std(0), 1e-6)
X, T = (X - mu) / sd, (T - mu) / sd
Xt, yt = torch.from_numpy(X[tr]), torch.from_numpy(y[tr])
Xv, yv = torch.from_numpy(X[va]), torch.from_numpy(y[va])
H = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], H), torch.nn.Sigmoid(), torch.nn.Linear(H, 10))
plateau = len(sys.argv) > 5 and sys.argv[5] == "plateau"
if plateau:
    weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in net.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD([{"params": weights, "weight_decay": 0.003}, {"params": biases, "weight_decay": 0}],
                          lr=0.01, momentum=0.9)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=7, threshold=0)
else:
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[15, 30], gamma=0.1)
loss_fn = torch.nn.CrossEntropyLoss()
best, best_state, best_epoch, cuts = float("inf"), None, 0, 0
start = time.perf_counter()
for e in range(1, 201 if plateau else 46):
    net.train()
    perm = torch.randperm(len(yt))
    for i in range(0, len(yt), 100):
        idx = perm[i:i + 100]
        opt.zero_grad()
        loss_fn(net(Xt[idx]), yt[idx]).backward()
        opt.step()
    with torch.no_grad():
        out = net(Xv)
        vloss = loss_fn(out, yv).item()
        vacc = (out.argmax(1) == yv).float().mean().item()
    if vloss < best:
        best, best_epoch = vloss, e
        best_state = {k: v.clone() for k, v in net.state_dict().items()}
    rate = opt.param_groups[0]["lr"]
    print(f"epoch {e}: validation loss {vloss:.4f}, accuracy {vacc:.4f}, rate {rate:g}, "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    if not plateau:
        sched.step()
        continue
    sched.step(vloss)
    cuts += opt.param_groups[0]["lr"] < rate
    if cuts == 3 or e - best_epoch >= 10:
        break
net.load_state_dict(best_state)
with torch.no_grad():
    acc = (net(torch.from_numpy(T)).argmax(1).numpy() == test["label"]).mean()
print(f"{acc:.4f} {best_epoch} {time.perf_counter() - start:.0f}")
