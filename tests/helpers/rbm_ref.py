#!/usr/bin/env python3
"""rbm_ref.py - a plain NumPy (float64) reference for tiny-rbm-train.

It re-implements, number for number, the random streams of lib/rng.c
(xoshiro256** seeded by splitmix64) and the training loop of
stages/rbm-train.c: the epoch shuffle, the minibatches (the last one ends at
N), CD-K and PCD sampling, the gradients (section 1.4 of the report, energy
1.8, learned variances 1.4.3.2), momentum and weight decay.  Small V, H and B
only: everything is plain loops or small matrix products.

  rbm_ref.py agree DIR [tiny-rbm-train options]
      DIR holds init_{W,vbias,hbias,sigma}.npy, out_{...}.npy (tiny-npy of
      the --init model and of the trained one) and x.npy (the data).  Trains
      the init model with the options and checks that every parameter's
      change agrees with the C program's within --tol (default 1e-6)
      relative to the largest change of that parameter; with log.npy
      (tiny-npy recon of the --log stream) the per-epoch reconstruction
      error too.  Exit 1 on disagreement.
  rbm_ref.py gradcheck
      The data terms of the gradients (sigma above all) against minus the
      derivative of the free energy, by central differences.
  rbm_ref.py loglik MODEL_DIR PREFIX...
      Mean exact log-likelihood of x.npy (binary, small V and H: by
      enumeration) under each model PREFIX{W,vbias,hbias}.npy; one a line.
"""
import argparse
import math
import sys

import numpy as np

M64 = (1 << 64) - 1
STREAM_INIT = 1 << 61
STREAM_SHUFFLE = 1 << 62
STREAM_SAMPLE = 1 << 60
SIGMA_MIN = np.float32(1e-4)

# --- lib/rng.c ------------------------------------------------------------


def _splitmix64(x):
    """(new state, output) of splitmix64 from state x."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Rng:
    """xoshiro256** seeded from (seed, stream) as rng_seed does."""

    def __init__(self, seed, stream):
        x, z = _splitmix64(seed & M64)
        y = z ^ ((stream * 0xD1B54A32D192ED03 + 0x8CB92BA72F3D8DD7) & M64)
        self.s = []
        for _ in range(4):
            y, out = _splitmix64(y)
            self.s.append(out)

    def u64(self):
        s = self.s
        result = (_rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.u64() >> 11) * 2.0**-53

    def normal(self):
        u = 1.0 - self.uniform()  # drawn first
        v = self.uniform()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)

    def below(self, n):
        """Lemire's multiply-shift with rejection."""
        m = self.u64() * n
        lo = m & M64
        if lo < n:
            t = ((1 << 64) - n) % n
            while lo < t:
                m = self.u64() * n
                lo = m & M64
        return m >> 64


def shuffle(seed, epoch, N):
    """The epoch's order: Fisher-Yates from stream 2^62 + epoch."""
    r = Rng(seed, STREAM_SHUFFLE + epoch)
    perm = list(range(N))
    for k in range(N - 1, 0, -1):
        j = r.below(k + 1)
        perm[k], perm[j] = perm[j], perm[k]
    return perm


def fresh_weights(seed, V, H, f64=False):
    """0.01 N(0,1) from stream 2^61, row-major, as f32 (or f64)."""
    r = Rng(seed, STREAM_INIT)
    t = np.float64 if f64 else np.float32
    return np.array([t(0.01) * t(r.normal()) for _ in range(V * H)], dtype=t).reshape(V, H)


# --- the model ------------------------------------------------------------


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def hidden_probs(W, hb, s, Z):
    """p(h = 1 | v) for rows Z = v / s."""
    return logistic(Z @ W + hb)


def sample_stream(seed, g, B, b, step, visible):
    return Rng(seed, (STREAM_SAMPLE + (((g * B + b) << 8) & M64) + 2 * step + visible) & M64)


def sample_hidden(P, seed, g, step):
    B, H = P.shape
    h = np.zeros_like(P)
    for b in range(B):
        r = sample_stream(seed, g, B, b, step, 0)
        for j in range(H):
            h[b, j] = 1.0 if r.uniform() < P[b, j] else 0.0
    return h


def sample_visible(W, vb, s, gaussian, h, seed, g, step, mean=False):
    B = h.shape[0]
    V = W.shape[0]
    a = h @ W.T
    v = np.zeros((B, V))
    for b in range(B):
        r = sample_stream(seed, g, B, b, step, 1)
        for i in range(V):
            if gaussian and mean:
                v[b, i] = vb[i] + s[i] * a[b, i]
            elif gaussian:
                v[b, i] = vb[i] + s[i] * a[b, i] + s[i] * r.normal()
            else:
                v[b, i] = 1.0 if r.uniform() < logistic(vb[i] + a[b, i]) else 0.0
    return v


def sigma_term(v, P, W, vb, s):
    """g(v, a)_i = (v_i - b_i)^2 / s_i^3 - v_i (a W^T)_i / s_i^2, per row:
    the derivative of -E with respect to s_i, h replaced by its mean a."""
    return (v - vb) ** 2 / s**3 - v * (P @ W.T) / s**2


def vbias_term(v, vb, s, gaussian):
    return (v - vb) / s**2 if gaussian else v - vb


def weight_term(v, P, s):
    """sum over rows of (v / s)^T a, (V,H)."""
    return (v / s).T @ P


class Trainer:
    def __init__(self, W, vb, hb, s, gaussian, o):
        self.W, self.vb, self.hb, self.s = (np.array(p, dtype=np.float64) for p in (W, vb, hb, s))
        self.gaussian = gaussian
        self.o = o
        self.uW = np.zeros_like(self.W)
        self.uvb = np.zeros_like(self.vb)
        self.uhb = np.zeros_like(self.hb)
        self.us = np.zeros_like(self.s)
        self.chains = None

    def minibatch(self, X, g, mom):
        """One CD-K (or PCD) step as minibatch() in rbm-train.c; returns
        the reconstruction error (mean over rows)."""
        o, W, vb, hb, s = self.o, self.W, self.vb, self.hb, self.s
        B = X.shape[0]
        P0 = hidden_probs(W, hb, s, X / s)
        h = sample_hidden(P0, o.seed, g, 0)
        v = sample_visible(W, vb, s, self.gaussian, h, o.seed, g, 0, o.mean_visible)
        recon = ((X - v) ** 2).sum() / B
        first = 1
        if o.pcd:
            Pm = hidden_probs(W, hb, s, self.chains / s)
            h = sample_hidden(Pm, o.seed, g, 64)
            v = sample_visible(W, vb, s, self.gaussian, h, o.seed, g, 64, o.mean_visible)
            first = 65
        Pm = hidden_probs(W, hb, s, v / s)
        for _ in range(2, o.cd + 1):
            h = sample_hidden(Pm, o.seed, g, first)
            v = sample_visible(W, vb, s, self.gaussian, h, o.seed, g, first, o.mean_visible)
            Pm = hidden_probs(W, hb, s, v / s)
            first += 1
        if o.pcd:
            self.chains = v.copy()
        dhb = (P0 - Pm).sum(0) / B
        dvb = (vbias_term(X, vb, s, self.gaussian) - vbias_term(v, vb, s, self.gaussian)).sum(0) / B
        ds = (sigma_term(X, P0, W, vb, s) - sigma_term(v, Pm, W, vb, s)).sum(0) / B
        dW = (weight_term(X, P0, s) - weight_term(v, Pm, s)) / B
        self.uhb = mom * self.uhb + o.lr_hbias * dhb
        self.uvb = mom * self.uvb + o.lr_vbias * dvb
        self.uW = mom * self.uW + o.lr_w * (dW - o.decay * W)
        if o.learn_sigma:
            self.us = mom * self.us + o.lr_sigma * ds
        self.W = W + self.uW
        self.hb = hb + self.uhb
        self.vb = vb + self.uvb
        if o.learn_sigma:
            self.s = np.maximum(s + self.us, SIGMA_MIN)
        return recon

    def train(self, data):
        """The epochs and minibatches of main(); returns the per-epoch
        reconstruction errors."""
        o = self.o
        N = data.shape[0]
        B = min(o.batch, N)
        nb = (N + B - 1) // B
        log = []
        for epoch in range(o.epochs):
            perm = shuffle(o.seed, epoch, N)
            mom = o.m0 if epoch < o.m_epoch else o.m1
            err = 0.0
            for t in range(nb):
                first = t * B
                if N - first < B:
                    first = N - B  # the last minibatch ends at N
                X = data[perm[first:first + B]]
                if o.pcd and epoch == 0 and t == 0:
                    self.chains = X.copy()
                err += self.minibatch(X, epoch * nb + t, mom)
            log.append(err / nb)
        return log


def options(argv):
    p = argparse.ArgumentParser(prog="rbm_ref.py agree")
    p.add_argument("dir")
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("-q", action="store_true")
    p.add_argument("--init")
    p.add_argument("--log")
    p.add_argument("--threads")
    p.add_argument("--visible", choices=["gaussian", "binary"], required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--cd", type=int, default=1)
    p.add_argument("--pcd", action="store_true")
    p.add_argument("--mean-visible", action="store_true")
    p.add_argument("--learn-sigma", action="store_true")
    p.add_argument("--lr-w", type=float, default=1e-3)
    p.add_argument("--lr-vbias", type=float)
    p.add_argument("--lr-hbias", type=float)
    p.add_argument("--lr-sigma", type=float)
    p.add_argument("--momentum", default="0.5,0.9@5")
    p.add_argument("--decay", type=float, default=0.0)
    p.add_argument("--f64", action="store_true")  # the reference is float64 either way
    p.add_argument("data", nargs="?")
    o = p.parse_args(argv)
    o.lr_vbias = o.lr_w if o.lr_vbias is None else o.lr_vbias
    o.lr_hbias = o.lr_w if o.lr_hbias is None else o.lr_hbias
    o.lr_sigma = o.lr_w / 100 if o.lr_sigma is None else o.lr_sigma
    m, _, rest = o.momentum.partition(",")
    o.m0 = float(m)
    if rest:
        m1, _, at = rest.partition("@")
        o.m1, o.m_epoch = float(m1), int(at) if at else 5
    else:
        o.m1, o.m_epoch = o.m0, 0
    return o


def agree(argv):
    o = options(argv)
    d = o.dir.rstrip("/") + "/"
    init = {k: np.load(d + "init_" + k + ".npy").astype(np.float64) for k in ("W", "vbias", "hbias", "sigma")}
    out = {k: np.load(d + "out_" + k + ".npy").astype(np.float64) for k in ("W", "vbias", "hbias", "sigma")}
    x = np.load(d + "x.npy").astype(np.float64)
    x = x.reshape(x.shape[0], -1)
    t = Trainer(init["W"], init["vbias"], init["hbias"], init["sigma"], o.visible == "gaussian", o)
    log = t.train(x)
    ref = {"W": t.W, "vbias": t.vb, "hbias": t.hb, "sigma": t.s}
    bad = 0
    for k in ("W", "vbias", "hbias", "sigma"):
        want = ref[k] - init[k]
        got = out[k] - init[k]
        scale = np.abs(want).max()
        if scale == 0:
            err = np.abs(got).max()
        else:
            err = np.abs(got - want).max() / scale
        print("%-5s largest change %.4g, difference %.3g" % (k, scale, err))
        if not err <= o.tol:
            print("  %s: C %s\n  %s: ref %s" % (k, got.ravel()[:8], k, want.ravel()[:8]))
            bad = 1
    try:
        clog = np.load(d + "log.npy").astype(np.float64)
    except FileNotFoundError:
        clog = None
    if clog is not None:
        err = np.abs(clog - log).max() / max(np.abs(log).max(), 1e-30)
        print("recon %s, difference %.3g" % (np.array(log), err))
        if not err <= max(o.tol, 1e-6):
            print("  recon: C %s" % clog)
            bad = 1
    return bad


# --- checks of the reference itself ----------------------------------------


def free_energy(v, W, vb, hb, s):
    """F(v) = sum (v_i - b_i)^2 / 2 s_i^2 - sum_j log(1 + exp(b^h_j + sum_i v_i w_ij / s_i))"""
    return ((v - vb) ** 2 / (2 * s**2)).sum() - np.logaddexp(0, hb + (v / s) @ W).sum()


def gradcheck(argv):
    r = np.random.default_rng(7)
    V, H, eps = 5, 4, 1e-6
    worst = 0.0
    for trial in range(20):
        W = r.normal(size=(V, H))
        vb, hb = r.normal(size=V), r.normal(size=H)
        s = r.uniform(0.3, 2.0, size=V)
        v = r.normal(size=V) * 2
        a = hidden_probs(W, hb, s, (v / s)[None, :])
        # the reference's data terms for one row
        terms = {
            "sigma": (sigma_term(v[None, :], a, W, vb, s)[0], s),
            "vbias": (vbias_term(v[None, :], vb, s, True)[0], vb),
            "W": (weight_term(v[None, :], a, s), W),
        }
        for name, (g, p) in terms.items():
            fd = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                save = p[idx]
                p[idx] = save + eps
                fp = free_energy(v, W, vb, hb, s)
                p[idx] = save - eps
                fm = free_energy(v, W, vb, hb, s)
                p[idx] = save
                fd[idx] = -(fp - fm) / (2 * eps)
            err = np.abs(g - fd).max() / max(np.abs(fd).max(), 1e-12)
            worst = max(worst, err)
            if not err < 1e-6:
                print("trial %d %s: data term %s, -dF by differences %s" % (trial, name, g, fd))
                return 1
    print("largest relative difference %.3g" % worst)
    return 0


def loglik(argv):
    d, prefixes = argv[0].rstrip("/") + "/", argv[1:]
    x = np.load(d + "x.npy").astype(np.float64)
    x = x.reshape(x.shape[0], -1)
    V = x.shape[1]
    states = np.array([[(k >> i) & 1 for i in range(V)] for k in range(1 << V)], dtype=np.float64)
    for pre in prefixes:
        W, vb, hb = (np.load(d + pre + k + ".npy").astype(np.float64) for k in ("W", "vbias", "hbias"))

        def negF(v):  # binary visibles, energy (1.1)
            return v @ vb + np.logaddexp(0, v @ W + hb).sum(-1)

        logZ = np.logaddexp.reduce(negF(states))
        print("%.10f" % (negF(x) - logZ).mean())
    return 0


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"agree": agree, "gradcheck": gradcheck, "loglik": loglik}[cmd](rest))
