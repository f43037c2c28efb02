#!/usr/bin/python3
"""rbm_sklearn.py V H B BATCHES: scikit-learn's BernoulliRBM (binary
visibles, PCD-1, f32 data) trained one minibatch at a time with
partial_fit, timed over BATCHES minibatches after one warm-up; prints
examples per second and, on stderr, the dtype of its weights
(scikit-learn 1.2 keeps them in float64 whatever the data's)."""
import sys
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM

V, H, B, n = (int(a) for a in sys.argv[1:5])
rng = np.random.default_rng(1)
data = (rng.random(size=(B * (n + 1), V)) < 0.5).astype(np.float32)
rbm = BernoulliRBM(n_components=H, batch_size=B, learning_rate=1e-3, random_state=1)
rbm.partial_fit(data[:B])
t = time.time()
for k in range(1, n + 1):
    rbm.partial_fit(data[k * B:(k + 1) * B])
print("scikit-learn %s: weights %s" % (sklearn.__version__, rbm.components_.dtype), file=sys.stderr)
print("%.0f" % (n * B / (time.time() - t)))
