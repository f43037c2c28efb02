#!/usr/bin/python3
"""plateau_replay.py LOG THRESHOLD: replay tiny-backprop's default plateau
rule (--lr-patience 8, --max-cuts 2, --patience 10) on the validation
losses of a --log, with a new low counting for the two patience counts only
when it is below the last counted low by THRESHOLD of it (0: tiny's rule,
any lower loss; 1e-4: PyTorch ReduceLROnPlateau's default).  The net kept is
still the lowest loss.  Prints the epochs the rate is cut at (and the log's),
the stop, and the kept epoch and loss.  While the cuts agree with the log's
the replay is exact: the run would have followed the same path and stopped
there (threshold 0 reproduces the log).  Needs tiny-dump on PATH."""
import subprocess
import sys

log, thr = sys.argv[1], float(sys.argv[2])
out = subprocess.run(["tiny-dump", "--fields", "valid_loss,rate", log],
                     capture_output=True, text=True, check=True).stdout
recs = [dict(kv.split("=") for kv in line.split()) for line in out.splitlines() if line]
v = [float(r["valid_loss"]) for r in recs]
rate = [float(r["rate"]) for r in recs]
logcuts = [e for e in range(2, len(rate)) if rate[e] < rate[e - 1] * 0.5]

best = counted = v[0]
kept = since_best = since_mon = 0
cuts, stop = [], None
for e in range(1, len(v)):
    if v[e] < best:
        best, kept = v[e], e
    new_low = v[e] < counted * (1 - thr)
    if new_low:
        counted, since_best, since_mon = v[e], 0, 0
        continue
    since_best += 1
    since_mon += 1
    if since_best >= 10:
        stop = e
        break
    if since_mon >= 8:
        if len(cuts) == 2:
            stop = e
            break
        cuts.append(e + 1)
        since_mon = 0
exact = cuts == logcuts[:len(cuts)]
print(f"{log} threshold {thr:g}: cuts at {cuts} (the log's {logcuts}), stop at {stop} of {len(v) - 1} logged, "
      f"kept {kept} at {best:.4f}; {'exact' if exact else 'not exact: the cuts differ from the log'}")
