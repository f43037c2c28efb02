/*
 * real.h - the precision of a file compiled twice (lib/rbm.c,
 * lib/rbm-split.c and stages/rbm-train.c; see the Makefile): as it is,
 * real is float and the names are rbm_t's; with -DRBM_F64, real is double
 * and they are rbm64_t's.  Include after tiny.h.
 */
#ifdef RBM_F64
typedef double real;
#define RBM(name) rbm64_##name
#define DT_REAL DT_F64
#define la_gemm la_dgemm
#define exp_real exp
#define tf_get_real tf_get_f64
#define tf_check_finite_real tf_check_finite_f64
#else
typedef float real;
#define RBM(name) rbm_##name
#define DT_REAL DT_F32
#define la_gemm la_sgemm
#define exp_real expf
#define tf_get_real tf_get_f32
#define tf_check_finite_real tf_check_finite_f32
#endif
