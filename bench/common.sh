# bench/common.sh - what every bench script starts with (sourced): the
# project's root as the working directory, bin/ on PATH, and py, which
# runs Debian's python3 the way the comparisons need it: on the BLAS
# Debian's alternatives give NumPy, with as many threads as tiny uses,
# and without the environment's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
# overrides (only in its own command).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PATH="$PWD/bin:$PATH"
PY=/usr/bin/python3
threads=$(nproc)
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE BLIS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads $PY "$@"; }
