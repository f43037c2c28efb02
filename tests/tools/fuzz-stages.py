#!/usr/bin/python3
"""fuzz-stages - run every stage on mutated data *and model* streams.

    tests/tools/fuzz-stages.py [--runs N] [--seed S] [--bin DIR] [--jobs J] [--keep DIR]

Seeds: small valid streams made by the stages themselves (images, patches,
a covariance, a ZCA model, an RBM and its checkpoint, a k-means bank, a
logistic regression, a backprop net, predictions, features).  Each run
takes one case (a stage, its arguments, which input is mutated: stdin or
MODEL) and one mutation of that input, made by random.Random(seed + run):
bytes flipped in the header or the records, a number of the header
replaced (count, a dimension, the header length), a field renamed, retyped,
dropped or duplicated, an attribute changed, the stream cut or extended;
a mutated header is re-padded so that the parser reaches the stage's own
checks.  Every run must:

  - exit 0, 1 or 2 (not a signal: no crash), within --timeout seconds (no hang);
  - print no sanitizer report (when --bin is a sanitizer build);
  - leave no partial output that a following reader accepts: when the stage
    fails, tiny-info must reject what it wrote to stdout (if anything); when
    it succeeds, tiny-info must accept it.

A failing run's input and command are kept in --keep (default
build/fuzz-stages/fail) and the last line is
"fuzz-stages: N runs, C crashes, S sanitizer reports, H hangs, P partial outputs accepted";
the exit status is 1 if any of them is not 0.
"""
import argparse
import concurrent.futures
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

# (stage argv, mutated input, the other inputs, writes a stream on stdout)
# In argv, MUT is the mutated file, S_x the seed stream x.  Without MUT in
# argv the mutated file is stdin.
CASES = [
    (["tiny-info"], "images", False),
    (["tiny-dump", "--head", "3"], "images", False),
    (["tiny-npy", "x"], "patches", False),
    (["tiny-take", "--first", "5"], "images", True),
    (["tiny-take", "--index", "3,1,0"], "patches", True),
    (["tiny-label-filter", "--keep", "0,1,2"], "images", True),
    (["tiny-label-filter", "--per-class", "2"], "images", True),
    (["tiny-patchify", "--size", "8", "--stride", "8"], "images", True),
    (["tiny-patchify", "--size", "6", "--random", "2", "--normalize", "10"], "images", True),
    (["tiny-cov", "-q"], "patches", True),
    (["tiny-cov", "--merge", "MUT", "S_cov"], "cov", True),
    (["tiny-zca", "--fit", "-q", "--epsilon", "0.1"], "cov", True),
    (["tiny-zca", "-q", "MUT", "S_patches"], "zca", True),
    (["tiny-zca", "-q", "--inverse", "MUT", "S_white"], "zca", True),
    (["tiny-zca", "-q", "S_zca"], "patches", True),
    (["tiny-features", "-q", "MUT", "S_white"], "rbm", True),
    (["tiny-features", "-q", "S_rbm"], "white", True),
    (["tiny-rbm-train", "-q", "--hidden", "4", "--epochs", "1", "--seed", "1"], "white", True),
    (["tiny-rbm-train", "-q", "--epochs", "2", "--init", "MUT", "S_white"], "ckpt", True),
    (["tiny-rbm-train", "-q", "--epochs", "1", "--init", "MUT", "S_white"], "rbm", True),
    (["tiny-rbm-merge", "MUT", "S_m1", "S_m2", "S_m3"], "m0", True),
    (["tiny-kmeans", "-q", "-k", "4", "--iterations", "3"], "white", True),
    (["tiny-conv", "-q", "--zca", "S_zca6", "MUT", "S_images"], "bank", True),
    (["tiny-conv", "-q", "--zca", "MUT", "S_bank", "S_images"], "zca6", True),
    (["tiny-conv", "-q", "--zca", "S_zca6", "S_bank"], "images", True),
    (["tiny-logreg", "--train", "-q", "--seed", "1"], "feats", True),
    (["tiny-logreg", "-q", "MUT", "S_feats"], "logreg", True),
    (["tiny-logreg", "-q", "S_logreg"], "feats", True),
    (["tiny-backprop", "-q", "MUT", "S_feats"], "net", True),
    (["tiny-backprop", "--train", "-q", "--hidden", "4", "--epochs", "2", "--seed", "1"], "feats", True),
    (["tiny-confusion"], "pred", False),
    (["tiny-confusion", "--stream"], "pred", True),
    (["tiny-render", "filters", "--field", "W", "--shape", "3,6,6", "MUT"], "bank", False),
    (["tiny-render", "images"], "images", False),
    (["tiny-dedupe", "-q"], "images", True),
    (["tiny-take", "--from", "MUT", "--fields", "label", "S_white"], "feats", True),
]


def sh(cmd, out, env, stdin=None):
    with open(out, "wb") as f:
        subprocess.run(cmd, stdin=stdin, stdout=f, check=True, env=env, stderr=subprocess.DEVNULL)


def make_seeds(bindir, d, env):
    """The seed streams, made by the stages themselves from synthetic images."""
    b = lambda n: os.path.join(bindir, "tiny-" + n)
    s = lambda n: os.path.join(d, n + ".tiny")
    sh([b("fetch"), "-q", "synthetic", "--count", "40"], s("images"), env)
    sh([b("patchify"), "--size", "4", "--stride", "8", s("images")], s("patches"), env)   # 48 values
    sh([b("cov"), "-q", s("patches")], s("cov"), env)
    sh([b("zca"), "--fit", "-q", "--epsilon", "0.1", s("cov")], s("zca"), env)
    sh([b("zca"), "-q", s("zca"), s("patches")], s("white"), env)
    sh([b("rbm-train"), "-q", "--hidden", "5", "--epochs", "1", "--seed", "1", "--checkpoint", s("ckpt"),
        "--checkpoint-every", "1b", s("white")], s("rbm"), env)
    sh([b("patchify"), "--size", "6", "--random", "4", "--normalize", "10", s("images")], s("p6"), env)
    sh([b("cov"), "-q", s("p6")], s("cov6"), env)
    sh([b("zca"), "--fit", "-q", "--epsilon", "0.1", s("cov6")], s("zca6"), env)
    sh([b("zca"), "-q", s("zca6"), s("p6")], s("white6"), env)
    sh([b("kmeans"), "-q", "-k", "3", "--seed", "1", s("white6")], s("bank"), env)
    sh([b("features"), "-q", s("rbm"), s("white")], s("feats"), env)
    sh([b("logreg"), "--train", "-q", "--seed", "1", s("feats")], s("logreg"), env)
    sh([b("logreg"), "-q", s("logreg"), s("feats")], s("pred"), env)
    sh([b("backprop"), "--train", "-q", "--hidden", "3", "--epochs", "2", "--seed", "1", s("feats")],
       s("net"), env)
    for k in range(4):   # patch models for tiny-rbm-merge
        sh([b("patchify"), "--size", "16", "--stride", "16", "--patch", str(k), s("images")], s("q%d" % k), env)
        sh([b("rbm-train"), "-q", "--hidden", "3", "--epochs", "1", "--seed", "1", s("q%d" % k)], s("m%d" % k), env)
    if not os.path.exists(s("ckpt")):
        raise SystemExit("fuzz-stages: the seed ckpt was not made")


def split(data):
    m = re.match(rb"TINY 1 (\d+)\n", data)
    if not m:
        return None, data
    n = int(m.group(1))
    return data[:n], data[n:]


def repad(lines):
    body = "".join(l + "\n" for l in lines)
    n = (len(body) + len("TINY 1 0000000\n") + 63) // 64 * 64
    first = "TINY 1 %d\n" % n
    return (first + body).encode().ljust(n, b"\n")


NUMBERS = ["0", "1", "2", "3", "7", "64", "255", "256", "4096", "65536", "2147483647", "2147483648",
           "4294967295", "99999999999", "4611686018427387903", "-1", "01", "1e3", ""]


def mutate(data, rnd):
    hdr, body = split(data)
    op = rnd.randrange(12)
    if hdr is None or op == 0:                    # flip bytes anywhere
        b = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            if b:
                b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        return bytes(b), "flip"
    if op == 1:                                   # flip bytes in the records
        b = bytearray(body)
        for _ in range(rnd.randint(1, 16)):
            if b:
                i = rnd.randrange(len(b))
                b[i] = rnd.choice([0, 0xff, 0x7f, 0x80, rnd.randrange(256)])
        return hdr + bytes(b), "flip-records"
    if op == 2:                                   # cut
        return data[:rnd.randrange(len(data))], "cut"
    if op == 3:                                   # extend
        return data + bytes(rnd.randrange(256) for _ in range(rnd.choice([1, 3, 16, 64, 700]))), "extend"
    if op == 4:                                   # NaN or Inf in a float record
        b = bytearray(body)
        if len(b) >= 4:
            i = rnd.randrange(len(b) - 3)
            b[i:i + 4] = rnd.choice([b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\x80\xff"])
        return hdr + bytes(b), "nan"
    lines = hdr.decode(errors="replace").rstrip("\n").split("\n")[1:]
    fields = [i for i, l in enumerate(lines) if l.startswith("field ")]
    if op in (5, 6):                              # a number of the header replaced
        spots = [(i, m) for i, l in enumerate(lines) for m in re.finditer(r"\d+", l)]
        if spots:
            i, m = rnd.choice(spots)
            l = lines[i]
            lines[i] = l[:m.start()] + rnd.choice(NUMBERS + [str(int(m.group()) * rnd.choice([2, 3, 10]))]) + l[m.end():]
        what = "number"
    elif op == 7 and fields:                      # a field renamed
        i = rnd.choice(fields)
        p = lines[i].split(" ")
        p[1] = rnd.choice(["x", "W", "label", "mean", "cov", "uW", "usigma", "sigma", "vbias", "hbias", "b", "n",
                           "Winv", "eigvec", "mu", "sd", "W1", "b1", "W2", "chains", p[1] + "_"])
        lines[i] = " ".join(p)
        what = "rename"
    elif op == 8 and fields:                      # a field retyped
        i = rnd.choice(fields)
        p = lines[i].split(" ")
        p[2] = rnd.choice(["u8", "i32", "u32", "i64", "f32", "f64"])
        lines[i] = " ".join(p)
        what = "retype"
    elif op == 9 and fields:                      # a field dropped or duplicated under another name
        i = rnd.choice(fields)
        if rnd.random() < 0.5:
            del lines[i]
        else:
            p = lines[i].split(" ")
            lines.insert(i + 1, " ".join([p[0], p[1] + "2"] + p[2:]))
        what = "drop-dup"
    elif op == 10:                                # an attribute changed
        attrs = [i for i, l in enumerate(lines) if l.startswith("attr ")]
        if attrs:
            i = rnd.choice(attrs)
            p = lines[i].split(" ", 2)
            p[2:] = [rnd.choice(["", "0", "-1", "gaussian", "binary", "3,6,6", "a b", "9" * 30, "nan"])]
            lines[i] = " ".join(p)
        what = "attr"
    else:                                         # a shape's rank changed
        if fields:
            i = rnd.choice(fields)
            p = lines[i].split(" ")
            p[3] = rnd.choice(["[]", "[1]", "[2,2]", "[1,1,1,1]", p[3].replace(",", ",1,", 1)])
            lines[i] = " ".join(p)
        what = "shape"
    return repad(lines) + body, what


def run_one(args, seeds, k):
    rnd = random.Random(args.seed * 1000003 + k)
    argv, mut, stream_out = CASES[rnd.randrange(len(CASES))]
    with open(seeds[mut], "rb") as f:
        data, what = mutate(f.read(), rnd)
    work = tempfile.mkdtemp(dir=args.tmp)
    try:
        mpath = os.path.join(work, "in.tiny")
        with open(mpath, "wb") as f:
            f.write(data)
        cmd = [os.path.join(args.bin, argv[0])]
        stdin_path = mpath
        for a in argv[1:]:
            if a == "MUT":
                cmd.append(mpath)
                stdin_path = None
            elif a.startswith("S_"):
                cmd.append(seeds[a[2:]])
            else:
                cmd.append(a)
        if stdin_path is None:
            stdin_path = "/dev/null"
        out = os.path.join(work, "out")
        try:
            with open(stdin_path, "rb") as fi, open(out, "wb") as fo:
                p = subprocess.run(cmd, stdin=fi, stdout=fo, stderr=subprocess.PIPE, cwd=work,
                                   timeout=args.timeout, env=args.env)
            rc, err = p.returncode, p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            rc, err = "hang", ""
        problem = None
        if rc == "hang":
            problem = "hang"
        elif "Sanitizer" in err or "runtime error:" in err:
            problem = "sanitizer"
        elif rc not in (0, 1, 2):
            problem = "crash"
        elif stream_out and os.path.getsize(out) > 0:
            ok = subprocess.run([os.path.join(args.bin, "tiny-info"), "-q", out], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=args.env).returncode == 0
            if rc != 0 and ok:
                problem = "partial"
            elif rc == 0 and not ok:
                problem = "partial"   # a success whose output no reader takes
        if problem:
            keep = os.path.join(args.keep, "%s-%d" % (problem, k))
            os.makedirs(keep, exist_ok=True)
            shutil.copy(mpath, os.path.join(keep, "in.tiny"))
            shown = " ".join(a if a != mpath else "in.tiny" for a in cmd).replace(os.path.dirname(mpath) + "/", "")
            shown = shown.replace(os.path.dirname(seeds[mut]) + "/", "../seeds/")
            with open(os.path.join(keep, "command"), "w") as f:
                f.write("%s <%s  # mutation %s, exit %s\n%s\n" % (shown, "in.tiny" if "MUT" not in argv
                                                                   else "/dev/null", what, rc, err[-3000:]))
        return problem, rc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bin", default="bin")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--keep", default="build/fuzz-stages/fail")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.keep = os.path.abspath(args.keep)
    args.env = dict(os.environ, OMP_NUM_THREADS="1", BLIS_NUM_THREADS="1",
                    ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=99",
                    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99")
    args.tmp = tempfile.mkdtemp(prefix="fuzz-stages.")
    try:
        seeddir = os.path.join(args.tmp, "seeds")
        os.makedirs(seeddir)
        make_seeds(args.bin, seeddir, args.env)
        seeds = {f[:-5]: os.path.join(seeddir, f) for f in os.listdir(seeddir) if f.endswith(".tiny")}
        counts = {"crash": 0, "sanitizer": 0, "hang": 0, "partial": 0}
        exits = {}
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            for problem, rc in ex.map(lambda k: run_one(args, seeds, k), range(args.runs)):
                if problem:
                    counts[problem] += 1
                exits[rc] = exits.get(rc, 0) + 1
        if sum(counts.values()):
            shutil.copytree(seeddir, os.path.join(args.keep, "seeds"), dirs_exist_ok=True)
    finally:
        shutil.rmtree(args.tmp, ignore_errors=True)
    bad = sum(counts.values())
    print("fuzz-stages: exit statuses: %s" % ", ".join("%s: %d" % (k, v) for k, v in sorted(exits.items(), key=str)))
    if bad:
        print("fuzz-stages: failing inputs and commands in %s" % args.keep)
    print("fuzz-stages: %d runs, %d crashes, %d sanitizer reports, %d hangs, %d partial outputs accepted" %
          (args.runs, counts["crash"], counts["sanitizer"], counts["hang"], counts["partial"]))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
