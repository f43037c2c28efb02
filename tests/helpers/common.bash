# Shared by every tests/*.bats: bin/ and the test tools on PATH, bats-assert.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

TINY_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="$TINY_ROOT/bin:$TINY_ROOT/build/tests:$PATH"
FIXTURES="$TINY_ROOT/tests/fixtures"
SHARED="$TINY_ROOT/../shared"
# Debian's python3, which has python3-numpy (a pyenv python may not).
PY=/usr/bin/python3

# The real CIFAR-10 images in the official binary layout, made once from
# ../shared/data with ../shared/tools/cifar10-binary and kept in build/.
# Skips the test where ../shared or python3-pil is absent.
cifar10_tarball() {
	local out="$TINY_ROOT/build/data/cifar-10-binary.tar.gz"
	[ -f "$SHARED/data/cifar10-jpeg.tar.gz" ] || skip "../shared/data is absent"
	if [ ! -f "$out" ]; then
		$PY -c 'import PIL, numpy' 2>/dev/null || skip "python3-pil or python3-numpy is absent"
		mkdir -p "${out%/*}"
		$PY "$SHARED/tools/cifar10-binary" "$out" >&2
	fi
	CIFAR10_TARBALL="$out"
}

# via_pipe FILE CMD...: CMD reading FILE through a pipe, not a regular file.
via_pipe() {
	local f=$1
	shift
	cat "$f" | "$@"
}

# two records: label u8, x f32 [2]
small() {
	mkstream "$@" 'label u8 []' 'x f32 [2]' <<<'0 1.5 2  1 3 4'
}

# skip where NumPy is absent
npy_ok() {
	$PY -c 'import numpy' 2>/dev/null || skip "python3-numpy is absent"
}

# NumPy's view of a stream (formats/stream.md), for Python checks: $PY -c "$LOAD ..."
LOAD="
import sys
import numpy as np
sys.path.insert(0, '$TINY_ROOT/formats')
from tiny_stream import load
"

# kept_best LOG MODEL PREFIX: the model a trainer kept (PREFIX_best_epoch,
# PREFIX_valid_loss) is the epoch of LOG (a --log stream) with the lowest
# validation loss, the first on a tie
kept_best() {
	$PY -c "$LOAD
l = load('$1')
attrs = dict(line.split(' ', 2)[1:] for line in open('$2', 'rb').read(65536).split(b'\nend\n')[0].decode().split('\n') if line.startswith('attr '))
best = int(l['valid_loss'].argmin())
assert int(attrs['$3_best_epoch']) == l['epoch'][best], (attrs['$3_best_epoch'], l['epoch'][best], l['valid_loss'])
assert abs(float(attrs['$3_valid_loss']) - l['valid_loss'][best]) < 1e-4, (attrs['$3_valid_loss'], l['valid_loss'][best])
assert list(l['epoch']) == list(range(len(l))), l['epoch']
print('ok')
"
}

# digits DIR: scikit-learn's bundled handwritten digits (1797 real 8x8
# images, 0..16, 10 classes) as DIR/train.tiny (the first 1347 of a fixed
# shuffle) and DIR/test.tiny (the other 450); skips where scikit-learn is absent
digits() {
	$PY -c 'import sklearn' 2>/dev/null || skip "python3-sklearn is absent"
	$PY -c "
import numpy as np
from sklearn.datasets import load_digits
d = load_digits()
i = np.random.default_rng(0).permutation(len(d.target))
for name, part in (('train', i[:1347]), ('test', i[1347:])):
    with open('$1/' + name + '.txt', 'w') as f:
        for k in part:
            f.write('%d %s\n' % (d.target[k], ' '.join('%d' % v for v in d.data[k])))
"
	mkstream --attr 'classes=0 1 2 3 4 5 6 7 8 9' 'label u8 []' 'x u8 [64]' <"$1/train.txt" >"$1/train.tiny"
	mkstream --attr 'classes=0 1 2 3 4 5 6 7 8 9' 'label u8 []' 'x u8 [64]' <"$1/test.txt" >"$1/test.tiny"
}

# digits_load DIR: Python that loads DIR/train.tiny, test.tiny and the
# predictions p.tiny as tr, te, p, and X, T: the training and test x
# standardised by the training part (an sd below 1e-6 taken as 1), as
# tiny-logreg and tiny-backprop --standardize do; and agree(ref, what,
# below, above): prints tiny's test accuracy (p's pred) beside the
# reference's, and asserts it within [ref - below, ref + above], ref > 0.9
digits_load() {
	cat <<PYTHON
$LOAD
tr, te, p = load('$1/train.tiny'), load('$1/test.tiny'), load('$1/p.tiny')
X, T = tr['x'].astype(np.float64), te['x'].astype(np.float64)
mu, sd = X.mean(0), X.std(0)
sd[sd < 1e-6] = 1
X, T = (X - mu) / sd, (T - mu) / sd
def agree(ref, what, below, above):
    ours = (p['pred'] == te['label']).mean()
    print('tiny %.4f %s %.4f' % (ours, what, ref))
    assert ref - below <= ours <= ref + above and ref > 0.9, (ours, ref)
PYTHON
}
