#!/usr/bin/python3
"""finetune_torch.py INIT TRAIN TEST EPOCHS [THREADS]: Figure 3.1's (e)
fine-tuning in PyTorch, from the same initial net as tiny-backprop's, for
its test accuracy beside tiny-backprop's after the same epochs on the same
data (issue "Supervised training that converges").  INIT is the initial
net as tiny-backprop writes it with --epochs 0 (W1 from (d)'s RBM, Wo and
bo from (d)'s regression, the standardisation folded in), a 3072-H-10 net
with logistic hidden units and softmax output.  Trained on every record of
TRAIN, raw pixels 0..255 as tiny-backprop's (e) sees them, with make
fig3.1's (e) settings written with PyTorch's pieces: SGD, momentum 0.9,
minibatches of 100 in a shuffled order, rate 0.001 (2e-7 for the first
layer's weights, tiny's --lr-input), weight decay 0.001 on the weights only
(tiny's --l2: the gradient of 0.001/2 |W|^2), a fixed rate.  Prints one
line an epoch on stderr (the training loss, the test loss and accuracy),
then: test accuracy, seconds."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "formats"))
import tiny_stream  # noqa: E402

init = tiny_stream.read(sys.argv[1]).model()
train, test = tiny_stream.load(sys.argv[2]), tiny_stream.load(sys.argv[3])
epochs = int(sys.argv[4])
torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else os.cpu_count())
torch.manual_seed(1)
X = torch.from_numpy(train["x"].reshape(len(train), -1).astype(np.float32))
y = torch.from_numpy(train["label"].astype(np.int64))
T = torch.from_numpy(test["x"].reshape(len(test), -1).astype(np.float32))
yT = torch.from_numpy(test["label"].astype(np.int64))
H = init["W1"].shape[1]
net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], H), torch.nn.Sigmoid(), torch.nn.Linear(H, 10))
with torch.no_grad():
    net[0].weight.copy_(torch.from_numpy(init["W1"].T.copy()))
    net[0].bias.copy_(torch.from_numpy(init["b1"].copy()))
    net[2].weight.copy_(torch.from_numpy(init["Wo"].T.copy()))
    net[2].bias.copy_(torch.from_numpy(init["bo"].copy()))
opt = torch.optim.SGD([{"params": [net[0].weight], "lr": 2e-7, "weight_decay": 0.001},
                       {"params": [net[2].weight], "weight_decay": 0.001},
                       {"params": [net[0].bias, net[2].bias], "weight_decay": 0}],
                      lr=0.001, momentum=0.9)
loss_fn = torch.nn.CrossEntropyLoss()


def test_figures():
    with torch.no_grad():
        out = net(T)
        return loss_fn(out, yT).item(), (out.argmax(1) == yT).float().mean().item()


tl, ta = test_figures()
print(f"epoch 0: test loss {tl:.4f}, accuracy {ta:.4f}", file=sys.stderr, flush=True)
start = time.perf_counter()
for e in range(1, epochs + 1):
    perm = torch.randperm(len(y))
    total = 0.0
    for i in range(0, len(y), 100):
        idx = perm[i:i + 100]
        opt.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    tl, ta = test_figures()
    print(f"epoch {e}: loss {total / len(y):.4f}, test loss {tl:.4f}, accuracy {ta:.4f}, "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
print(f"{ta:.4f} {time.perf_counter() - start:.0f}")
