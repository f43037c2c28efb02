/*
 * tiny.h - the one library every tiny-* stage links.
 *
 * Modules (prefix: what it does):
 *   die/warn/x*   errors: one line on stderr, exit 1 (usage errors exit 2)
 *   th_*          the stream header (formats/stream.md): parse, build, format
 *   tf_*          one field of a record: convert to f32/f64/i64
 *   sin_*, sout_*  reading and writing streams, header first, then records
 *   opt_*         command-line numbers and choices, parsed whole, range-checked
 *   rng_*         seeded random numbers (xoshiro256**, independent streams)
 *   progress_*    a progress line on stderr, silent with -q or off a terminal
 *   la_*          BLAS/LAPACK wrappers (row-major)
 *
 * Shape letters used across the project: N records, B records in a block,
 * D values per record, V visible units, H hidden units.
 */
#ifndef TINY_H
#define TINY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- errors ------------------------------------------------------------- */

extern const char *tiny_prog;   /* basename of argv[0], set by tiny_init */
extern const char *tiny_usage;  /* the stage's synopsis, for usage() */
extern int tiny_argc;           /* the command line as given, for history */
extern char **tiny_argv;

void tiny_init(int argc, char **argv, const char *usage_line);
/* Dies with one line if the stage was started with stdin closed. */
void tiny_need_stdin(void);
/* "out of memory allocating N bytes", naming the last input opened (whose
 * header most often asked for the size) and its record size. */
void die_oom(size_t n) __attribute__((noreturn));
extern char tiny_last_input[256];
extern int64_t tiny_last_recsize;
/* One line "prog: message" on stderr and exit 1.  A format ending in ':'
 * gets ": strerror(errno)" appended. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Remove temporary files and exit without a message (a closed pipe). */
void exit_quietly(int status) __attribute__((noreturn));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "usage: SYNOPSIS" on stderr, exit 2.  With a message, it comes first. */
void usage(void) __attribute__((noreturn));
void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Files the program is writing under a temporary name; die() removes them. */
void tmpfile_register(const char *path);
void tmpfile_forget(const char *path);
/* Create and register a temporary file beside path, PATH.tmp.PID.XXXXXX,
 * with the mode the umask gives new files (not mkstemp's 0600), after
 * removing such files of writers no longer alive; *tmp gets its name
 * (caller frees).  Returns the open descriptor; dies on failure. */
int tmpfile_create(const char *path, char **tmp);
/* Unlink them all (async-signal-safe: for a handler of SIGTERM). */
void tmpfile_unlink_all(void);

/* --- the stream header -------------------------------------------------- */

#define TINY_MAGIC       "TINY"
#define TINY_VERSION     1
#define TINY_ALIGN       64            /* body starts at a multiple of this */
/* A count-unknown stream ends with a trailer: these 8 bytes, then the
 * record count as a little-endian u64 (formats/stream.md). */
#define TINY_TRAILER_MAGIC "TINYEND\n"
#define TINY_TRAILER     16
#define TINY_HDR_MAX     (1 << 20)     /* longest header, bytes */
#define TINY_MAX_FIELDS  64
#define TINY_MAX_RANK    4
#define TINY_NAME_MAX    32            /* field and attribute names, chars */
#define TINY_DIM_MAX     INT32_MAX
#define TINY_RECORD_MAX  ((int64_t)1 << 34)  /* bytes in one record */
#define TINY_BODY_MAX    ((int64_t)1 << 62)  /* count x record size */
#define TINY_COUNT_UNKNOWN (-1)

typedef enum { DT_U8, DT_I32, DT_U32, DT_I64, DT_F32, DT_F64, DT_COUNT } dtype_t;

extern const char *const dtype_names[DT_COUNT];
extern const int dtype_sizes[DT_COUNT];
int dtype_from_name(const char *s);   /* -1 if unknown */

typedef struct {
	char name[TINY_NAME_MAX + 1];
	dtype_t dtype;
	int rank;
	int64_t dims[TINY_MAX_RANK];
	int64_t n;       /* elements: product of dims (1 for rank 0) */
	int64_t nbytes;  /* n * dtype size */
	int64_t offset;  /* byte offset of the field in a record */
} tfield;

typedef struct {
	char *key;
	char *value;
} tattr;

typedef struct {
	int64_t count;   /* records, or TINY_COUNT_UNKNOWN */
	int nfields;
	tfield fields[TINY_MAX_FIELDS];
	int64_t recsize; /* bytes per record */
	int nattrs;
	tattr *attrs;
} theader;

void th_init(theader *h);
void th_free(theader *h);
void th_copy(theader *dst, const theader *src);
/* Parse the first line from the first n bytes (n >= 1): sets *hdrlen.
 * 0 on success, -1 with a message in err. */
int th_parse_first_line(const char *buf, size_t n, size_t *hdrlen, char *err, size_t errsz);
/* Parse a whole header of len bytes (len = the length its first line gives).
 * 0 on success, -1 with a one-line message in err.  This is the fuzz target. */
int th_parse(theader *h, const char *buf, size_t len, char *err, size_t errsz);
/* The header as bytes, padded to TINY_ALIGN; NULL with err if it would
 * break a rule (too long, bad name). Caller frees. */
char *th_format(const theader *h, size_t *len, char *err, size_t errsz);

/* Building headers; each checks the rules and returns -1 with err if broken. */
int th_add_field(theader *h, const char *name, dtype_t dt, int rank, const int64_t *dims,
		 char *err, size_t errsz);
/* Convenience for stages: dies on a broken rule (a bug, or a bound hit). */
void th_field(theader *h, const char *name, dtype_t dt, int rank, ...);
void th_remove_field(theader *h, int index);
/* Give field index a new dtype and shape, keeping its name and place; the
 * offsets after it move.  Dies if a rule would break. */
void th_replace_field(theader *h, int index, dtype_t dt, int rank, const int64_t *dims);
/* Add the field a header's field line describes, "NAME DTYPE [D0,D1,...]"
 * (the parser the header uses, so one set of rules); -1 with err if not. */
int th_add_field_text(theader *h, const char *text, char *err, size_t errsz);
/* What kind of stream h looks like, from its fields, for messages that
 * name a mistake: "an RBM (tiny-rbm-train)", "a labelled data set", ... */
const char *th_kind(const theader *h);
/* The same as one word, the attribute kind every writer sets (sout_open):
 * covariance, zca, checkpoint, rbm, net, logreg, filter-bank,
 * labelled-data, data, predictions, log, other. */
const char *th_kind_name(const theader *h);
int th_find(const theader *h, const char *name);          /* -1 if absent */
const tfield *th_need(const theader *h, const char *name, const char *input);  /* dies, listing the fields */
/* h's field names, "a, b, c" (or "none"), in buf of n bytes. */
const char *th_field_names(const theader *h, char *buf, size_t n);
const char *th_attr(const theader *h, const char *key);   /* first value, or NULL */
void th_attr_set(theader *h, const char *key, const char *value);  /* replace or add */
void th_attr_setf(theader *h, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void th_attr_add(theader *h, const char *key, const char *value);  /* always add */
void th_attr_del(theader *h, const char *key);
/* Append "history <command line>": the argv tiny_init saw, before getopt
 * permuted it. */
void th_add_history(theader *h);
/* Split a whitespace-separated attribute (e.g. classes) into words.
 * Returns the number of words; *words is malloc'ed, free with th_words_free. */
int th_words(const char *value, char ***words);
void th_words_free(char **words, int n);

/* --- fields -------------------------------------------------------------- */

/* Convert field f of B records (recsize bytes apart) to a dense (B, f->n)
 * array of the given type. */
void tf_get_f32(const tfield *f, const void *recs, int64_t B, int64_t recsize, float *out);
void tf_get_f64(const tfield *f, const void *recs, int64_t B, int64_t recsize, double *out);
void tf_get_i64(const tfield *f, const void *recs, int64_t B, int64_t recsize, int64_t *out);
/* B records of header out from B records of header in (the same fields,
 * but field index replaced): index's bytes from vals (B, its nbytes), every
 * other field copied as it was. */
void tf_reassemble(const theader *in, const theader *out, int index, const unsigned char *src, int64_t B,
		   const void *vals, unsigned char *dst);
/* Store integer v into element 0 of field f in one record. */
void tf_set_i64(const tfield *f, void *rec, int64_t v);
int dtype_is_int(dtype_t dt);
/* Die naming the input, the record (rec0 + b) and the value index if any of
 * the (B, n) values is NaN or infinite. */
void tf_check_finite_f32(const float *v, int64_t B, int64_t n, int64_t rec0, const char *input, const char *field);
void tf_check_finite_f64(const double *v, int64_t B, int64_t n, int64_t rec0, const char *input, const char *field);

/* --- reading and writing streams ---------------------------------------- */

typedef struct {
	FILE *fp;
	char *name;        /* as given, "stdin" for - */
	theader h;
	int64_t declared;  /* the count the header gives (maybe unknown) */
	int64_t nread;     /* records read so far */
	int64_t hdrlen;
	int64_t start;     /* where the stream starts in a regular file, else -1 */
	int eof;
	/* count unknown through a pipe: the last TINY_TRAILER bytes of the
	 * input are the trailer, so the reader holds back that many */
	unsigned char look[TINY_TRAILER];
	int nlook;
} sin_t;

/* Open path ("-" or NULL: stdin), read and check the header, die with
 * "prog: NAME: rule" if it is bad.  For a regular file the size is checked
 * against the header now, and an unknown count is filled in. */
sin_t *sin_open(const char *path);
/* Read up to max records into buf (max * recsize bytes).  Returns the
 * number read, 0 at the end.  Dies on a truncated record, on fewer records
 * than the header promised, and on data after the last promised record. */
int64_t sin_read(sin_t *s, void *buf, int64_t max);
/* Read up to max records and convert field `field` to f32: out is (max, n). */
int64_t sin_read_f32(sin_t *s, const char *field, float *out, int64_t max);
/* Position a regular file's stream at record rec (0 <= rec <= count), so
 * that independent processes can each read a part; dies on a pipe. */
void sin_seek(sin_t *s, int64_t rec);
void sin_close(sin_t *s);

/* The one check of a model's fields that every model loader makes: s (a
 * `kind` model, "tiny-zca model") must hold one record and the field
 * `name` of dtype `dtype` (-1: f32 or f64) and shape dims[0..rank), a dim
 * of -1 matching any (named in messages by the comma-separated sym, e.g.
 * "D,K").  Dies with one line naming the file, the field, the shape
 * expected and the one found:
 *   "c.tiny: field 'usigma' of a checkpoint of this RBM must be f32 or f64 [192], not f32 [384]" */
const tfield *model_field(const sin_t *s, const char *kind, const char *name, int dtype, int rank,
			  const int64_t *dims, const char *sym);

/* What was done to a model's training data, recorded by the trainers in
 * its attribute data_origin ("zca_fingerprint=... features_of=..." or
 * "none"): whitened by which tiny-zca model, features of which model. */
void origin_record(theader *model, const theader *data);
/* Data given to a model must have been made as its training data was:
 * whitened by the same tiny-zca model or not whitened, features of the same
 * model or not features.  Dies with one line naming the mistake:
 *   "w.tiny: whitened (zca_fingerprint ...), but raw.rbm was trained on data that is not"
 * A model without data_origin (made by hand) is not checked. */
void origin_check(const theader *model, const char *model_name, const theader *data, const char *data_name);

typedef struct {
	FILE *fp;
	char *name;        /* for messages */
	char *path;        /* final path, NULL for stdout */
	char *tmp;         /* temporary path being written */
	theader h;
	int64_t nwritten;
} sout_t;

/* Write the header of h (a copy is kept) to stdout (path NULL or "-") or to
 * a temporary file renamed to path by sout_close. */
sout_t *sout_open(const char *path, const theader *h);
void sout_write(sout_t *s, const void *recs, int64_t nrec);
/* One record from its fields' bytes where they lie (fields[i] for the
 * header's field i), without a copy of the whole record: a model of
 * hundreds of MB is written from its arrays. */
void sout_write_fields(sout_t *s, const void *const *fields);
/* Check the promised count was written, flush, close (rename), free. */
void sout_close(sout_t *s);

/* Flush and close stdout, dying on an error (full disk). */
void close_stdout(void);
extern int tiny_stdout_closed;  /* set by close_stdout */
/* Write all of buf to fp or die naming `name`. */
void xfwrite(const void *buf, size_t n, FILE *fp, const char *name);

/* --- options ------------------------------------------------------------- */

/* Parse arg whole as an integer in [lo, hi]; usage error naming opt if not. */
int64_t opt_i64(const char *opt, const char *arg, int64_t lo, int64_t hi);
uint64_t opt_u64(const char *opt, const char *arg);
double opt_f64(const char *opt, const char *arg, double lo, double hi);
/* Index of arg in the NULL-terminated list; usage error listing them if absent. */
int opt_choice(const char *opt, const char *arg, const char *const *choices);
/* The items of a comma-separated list ("a,b,c"), as th_words gives them
 * (free with th_words_free); returns their number. */
int opt_list(const char *arg, char ***words);

/* --- random numbers ------------------------------------------------------ */

typedef struct { uint64_t s[4]; } rng_t;

/* Seed a generator; different `stream` values give independent sequences
 * for the same seed (e.g. one per record, or one per split). */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(rng_t *r);
double rng_uniform(rng_t *r);            /* [0, 1) */
double rng_normal(rng_t *r);             /* N(0, 1) */
uint64_t rng_below(rng_t *r, uint64_t n); /* [0, n), unbiased; n > 0 */

/* --- progress ------------------------------------------------------------ */

typedef struct {
	const char *what;
	double total;
	double start, last;
	int on;
} progress_t;

extern int tiny_quiet;   /* set by -q */

void progress_start(progress_t *p, const char *what, double total);
void progress_update(progress_t *p, double done);
void progress_end(progress_t *p);
double now_seconds(void);

/* --- linear algebra (row-major) ------------------------------------------ */

/* C (M,N) = alpha op(A) op(B) + beta C, with op(A) (M,K), op(B) (K,N). */
void la_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
	      const float *B, int ldb, float beta, float *C, int ldc);
/* The threads BLAS products use (BLIS_NUM_THREADS, else OpenMP's
 * count), for a stage's own parallel loops of la_sgemm_1. */
int la_threads(void);
/* The same on the calling thread alone, for products that threads of the
 * caller's own run side by side (BLIS; with another BLAS, la_sgemm). */
void la_sgemm_1(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
		const float *B, int ldb, float beta, float *C, int ldc);
void la_dgemm(int ta, int tb, int M, int N, int K, double alpha, const double *A, int lda,
	      const double *B, int ldb, double beta, double *C, int ldc);
/* C (n,n) upper triangle = alpha A^T A + beta C, with A (k,n). */
void la_dsyrk_t(int n, int k, double alpha, const double *A, int lda, double beta, double *C, int ldc);
void la_ssyrk_t(int n, int k, float alpha, const float *A, int lda, float beta, float *C, int ldc);
/* y += a x over n values. */
void la_daxpy(int64_t n, double a, const double *x, double *y);
/* Copy the upper triangle of the (n,n) C into its lower triangle. */
void la_symmetrize(int n, double *C);
/* BLAS threads and OpenMP threads for element-wise loops, n of each. */
void la_set_threads(int n);
/* A big buffer (2 MiB aligned, huge pages advised); free() releases it. */
void *xmalloc_big(size_t n);
/* Which BLAS, which kernels, how many threads: one line for bench and -v. */
const char *la_info(void);
/* Eigen-decomposition of the symmetric (n,n) A in place: eigenvalues w
 * ascending, eigenvector k in row k of A.  Dies on failure. */
void la_dsyevd(int n, double *A, double *w);

/* Replace the columns of the (m,n) A (m >= n) by an orthonormal basis of
 * their span (QR).  Dies on failure. */
void la_orthonormalize(int m, int n, double *A);

/* --- labelled data for classifiers (labelled.c) ---------------------------- */

typedef struct {
	sin_t *in;
	const tfield *fl;     /* label in the input's header */
	tfield fx;            /* x as stored compactly: offset 0, record size fx.nbytes */
	int64_t N, D, K;      /* K from the classes attribute, or after ld_read */
	unsigned char *xs;    /* (N, fx.nbytes): x as it came (u8 stays u8) */
	int64_t *y;           /* (N) labels */
	char *classes;        /* the K names, space-separated; NULL without the attribute */
	float *mu, *sd;       /* (D) when set, ld_gather gives (x - mu) / sd */
} labelled_t;

/* The header only: x, an integer label, the classes (at least 2). */
void ld_open(labelled_t *d, const char *path);
/* The records: labels in 0..K-1 (without classes, up to 65535 and then
 * K = largest + 1), x finite, at least 2 records.  Dies naming the record. */
void ld_read(labelled_t *d);
/* X (n,D) f32 from the records idx[0..n) (standardised when d->mu is set). */
void ld_gather(const labelled_t *d, const int64_t *idx, int64_t n, float *X);
/* mu, sd (D) of what ld_gather gives over the records idx[0..n), in double;
 * an sd below 1e-6 (a constant input) becomes 1. */
void ld_moments(const labelled_t *d, const int64_t *idx, int64_t n, float *mu, float *sd);
void ld_free(labelled_t *d);
/* The records 0..N-1, or with valid > 0 in a seeded order (stream 2^62)
 * whose last floor(valid N) are held out: *nvalid of them.  Dies when
 * either part would hold fewer records than classes (K, after ld_read).
 * Caller frees. */
int64_t *ld_split(const labelled_t *d, double valid, uint64_t seed, int64_t *nvalid);
/* "0 1 ... K-1", for data without class names; caller frees. */
char *ld_class_numbers(int64_t K);
/* Fisher-Yates shuffle of a (n) from the stream (seed, stream). */
void rng_shuffle(int64_t *a, int64_t n, uint64_t seed, uint64_t stream);
/* Each of m rows of P (m,K) becomes the softmax of its scores (the row's
 * largest subtracted first). */
void softmax_rows(float *P, int64_t m, int64_t K);
int64_t argmax_f32(const float *p, int64_t K);
/* The sum of -log P[r, y_r] over n rows of probabilities P (n,K) (a
 * probability below 1e-30 counts as 1e-30); adds the rows whose argmax is
 * y_r to *correct. */
double nll_rows(const float *P, const int64_t *y, int64_t n, int64_t K, int64_t *correct);
/* The squared hinge of one-vs-rest scores S (n,K): the sum over rows and
 * classes of max(0, 1 - t s)^2, t = 1 for the row's class y_r and -1 for
 * the others (the L2-SVM's loss); adds the rows whose argmax is y_r to
 * *correct.  sqhinge_grad replaces S by the loss's gradient in S,
 * -2 t max(0, 1 - t s). */
double sqhinge_rows(const float *S, const int64_t *y, int64_t n, int64_t K, int64_t *correct);
void sqhinge_grad(float *S, const int64_t *y, int64_t n, int64_t K);

/* Predictions on stdout: the input's label (when it has one), pred i32 [],
 * FIELD f32 [K] (prob, or score for a model of scores); the input's attributes, the model's classes.  pred_close
 * prints the accuracy when the labels are integers (not with -q). */
typedef struct {
	const sin_t *in;
	const tfield *fl;
	int intlabel;
	int64_t K, done, correct, cap;
	theader h;
	sout_t *out;
	unsigned char *orec;
	const char *field;   /* prob, or score for a model of scores */
} pred_out_t;
void pred_open(pred_out_t *p, const sin_t *in, int64_t K, const char *classes, const char *field);
/* n input records (raw, as read) and their probabilities (or scores) P (n,K). */
void pred_write(pred_out_t *p, const unsigned char *raw, int64_t n, const float *P);
void pred_close(pred_out_t *p);

/* A tiny-logreg model: W (D,K), b (K), and mu, sd (D) when it standardises
 * its inputs (NULL otherwise); the class names or NULL. */
typedef struct {
	int64_t D, K;
	float *W, *b, *mu, *sd;
	char *classes;
	int svm;   /* attribute logreg_loss svm: one-vs-rest scores, no softmax */
} lr_model_t;
/* Read and check one (dies naming the stream if it is not a logreg model). */
void lr_load(lr_model_t *m, sin_t *ms);
/* Fold mu, sd into W and b, so the model takes raw inputs. */
void lr_fold(lr_model_t *m);
void lr_free(lr_model_t *m);

/* --- supervised training (train.c) ------------------------------------------ */

/* The parameter arrays a trainer moves: p[i] (len[i] floats), the gradient
 * g[i] the stage's step fills, each array's rate at the schedule's start,
 * and its weight decay: SGD steps along g + decay p (the L2 penalty's
 * gradient, added in the update's own pass over p). */
enum { TR_MAX_PARAMS = 8 };
/* floats of padding after a small array BLIS reads or writes: its kernels
 * may touch a few bytes past a matrix's end (valgrind shows reads) */
enum { TR_PAD = 16 };
typedef struct {
	int n;
	float *p[TR_MAX_PARAMS], *g[TR_MAX_PARAMS];
	int64_t len[TR_MAX_PARAMS];
	double rate[TR_MAX_PARAMS], decay[TR_MAX_PARAMS];
} tr_params_t;
void tr_param(tr_params_t *ps, float *p, float *g, int64_t len, double rate, double decay);

/* A stage's model, as the trainer calls it (ctx is the stage's). */
typedef struct {
	void *ctx;
	/* P (n,K): the class probabilities of the rows X (n,D) */
	void (*forward)(void *ctx, const float *X, int64_t n, float *P);
	/* one minibatch X (n,D), labels y (n): the params' g = the gradient of
	 * the mean loss (the penalty's comes from the params' decay); returns
	 * the sum of -log P[r, y_r] and adds the right predictions (argmax P)
	 * to *correct */
	double (*step)(void *ctx, const float *X, const int64_t *y, int64_t n, int64_t *correct);
	/* the objective's penalty at the current parameters (NULL: none) */
	double (*penalty)(void *ctx);
	/* L-BFGS only: the objective over all n rows Z (n,D) (mean loss plus
	 * penalty), its gradient into the params' g, the right predictions */
	double (*objective)(void *ctx, const float *Z, const int64_t *y, int64_t n, int64_t *correct);
	/* optional, L-BFGS on u8 data: the same objective over the rows as
	 * they came, B (n,D) bytes, which it standardises itself by mu and sd
	 * (D; NULL: none) as ld_gather would; a quarter of the bytes to read
	 * each evaluation (NULL: objective on the gathered floats) */
	double (*objective_u8)(void *ctx, const uint8_t *B, const float *mu, const float *sd, const int64_t *y,
			       int64_t n, int64_t *correct);
	/* a model whose forward gives scores, not probabilities: its loss
	 * over n rows (as nll_rows; NULL: nll_rows) and the name of the
	 * predictions' field (NULL: prob) */
	double (*loss)(const float *S, const int64_t *y, int64_t n, int64_t K, int64_t *correct);
	const char *out;
} tr_model_t;

typedef enum { TR_SGD, TR_LBFGS } tr_solver_t;
typedef enum { TR_PLATEAU, TR_STEP, TR_COSINE, TR_CONSTANT } tr_schedule_t;
extern const char *const tr_schedule_names[];
typedef struct {
	tr_solver_t solver;
	int64_t batch, max_epochs, min_epochs;   /* min_epochs: the least --epochs accepted */
	double lr, momentum;
	tr_schedule_t schedule;
	double lr_factor;
	int64_t lr_patience, lr_step, max_cuts, patience;
	double valid, target, tol;
	uint64_t seed;
	const char *log;
	int refit;   /* --refit: tr_refit trains again on every record */
	/* SGD: the checkpoint's path (NULL: none), the epochs after which this
	 * process stops as if interrupted (0: none), and the stage's settings
	 * that a resumed run must share (below, tr_fit) */
	const char *checkpoint;
	int64_t stop_after;
	const char *run_settings;
	/* set by tr_refit: SGD takes the rate of each epoch from the plateau
	 * cuts of this first fit (any other schedule: as it was) */
	const struct trainer *replay;
} tr_opts_t;

/* The options both trainers take, for getopt_long: TR_LONGOPTS in the
 * stage's table, then tr_option(o, c, optarg) in its switch (1: taken). */
enum {
	TR_OPT_EPOCHS = 1000, TR_OPT_BATCH, TR_OPT_LR, TR_OPT_MOMENTUM, TR_OPT_SCHEDULE, TR_OPT_LR_FACTOR,
	TR_OPT_LR_PATIENCE, TR_OPT_LR_STEP, TR_OPT_MAX_CUTS, TR_OPT_PATIENCE, TR_OPT_VALID, TR_OPT_SEED,
	TR_OPT_TARGET, TR_OPT_TOL, TR_OPT_LOG, TR_OPT_SOLVER, TR_OPT_REFIT
};
#define TR_LONGOPTS \
	{"epochs", required_argument, 0, TR_OPT_EPOCHS}, {"batch", required_argument, 0, TR_OPT_BATCH}, \
	{"lr", required_argument, 0, TR_OPT_LR}, {"momentum", required_argument, 0, TR_OPT_MOMENTUM}, \
	{"schedule", required_argument, 0, TR_OPT_SCHEDULE}, {"lr-factor", required_argument, 0, TR_OPT_LR_FACTOR}, \
	{"lr-patience", required_argument, 0, TR_OPT_LR_PATIENCE}, {"lr-step", required_argument, 0, TR_OPT_LR_STEP}, \
	{"max-cuts", required_argument, 0, TR_OPT_MAX_CUTS}, {"patience", required_argument, 0, TR_OPT_PATIENCE}, \
	{"valid", required_argument, 0, TR_OPT_VALID}, {"seed", required_argument, 0, TR_OPT_SEED}, \
	{"target-loss", required_argument, 0, TR_OPT_TARGET}, {"tol", required_argument, 0, TR_OPT_TOL}, \
	{"log", required_argument, 0, TR_OPT_LOG}, {"solver", required_argument, 0, TR_OPT_SOLVER}, \
	{"refit", no_argument, 0, TR_OPT_REFIT}
int tr_option(tr_opts_t *o, int c, const char *arg);
/* Usage errors of option combinations (--refit without --valid). */
void tr_check_opts(const tr_opts_t *o);
/* The settings as one line, for the model's STAGE_settings attribute. */
void tr_settings(char *buf, size_t n, const tr_opts_t *o);
/* The schedule's rate factor at epoch (0-based) after cuts plateau cuts. */
double tr_rate_factor(const tr_opts_t *o, int64_t epoch, int64_t cuts);

/* A training run: the split of d, and what it ended with. */
enum { TR_MAX_CUTS = 100 };
typedef struct trainer {
	labelled_t *d;
	int64_t *order, ntrain, nvalid;   /* training order[0..ntrain), validation the rest */
	int64_t epochs, best_epoch;       /* run, and kept (0: the initial parameters) */
	double train_loss, train_acc, valid_loss, valid_acc;   /* of the epoch kept */
	const char *why;                  /* why it stopped */
	char keeping[64];
	char model[128];                  /* the stage's words on its model, for the opening line */
	int64_t cut_at[TR_MAX_CUTS + 1], ncuts;   /* SGD, plateau: the first epoch (0-based) after each cut */
	int64_t refit_epochs;             /* tr_refit: its epochs or iterations, and their last loss */
	double refit_loss, refit_acc;
	char refit_skipped[128];          /* SGD: why tr_refit kept the fit's net instead ("": it did not) */
} trainer_t;
/* Split d (ld_read done) and, with standardize, set d->mu, d->sd from the
 * training part.  Dies when a part holds fewer records than classes. */
void tr_prepare(trainer_t *t, labelled_t *d, double valid, uint64_t seed, int standardize);
/* Train ps by o's solver; leaves in ps the parameters kept.  With
 * o->checkpoint (SGD), the run's state goes to that file at every epoch's
 * start, and a file already there from the same run (o->run_settings, the
 * data, the initial parameters) is resumed: the fit or tr_refit's run
 * goes on from its epoch as if never stopped.  tr_finish removes it. */
void tr_fit(trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o);
/* With o->refit and a validation part: train ps again on all the records
 * (the validation part too, standardised as before), as t's fit chose.
 * SGD: from init (the parameters tr_fit started from; NULL: ps as they
 * are) for t's kept epochs, each at the rate it had in t's fit; L-BFGS:
 * from ps (the kept solution) until it converges.  t keeps the first
 * fit's figures, and gets refit_epochs, refit_loss and refit_acc.  With
 * --log FILE its log is FILE.refit.  SGD whose kept epoch ran at the
 * schedule's first rate, cut after it in the fit: no refit (the replay
 * would end at that rate, on a draw from its noise), ps stays the fit's
 * net, and t->refit_skipped says why. */
void tr_refit(trainer_t *t, const tr_model_t *m, tr_params_t *ps, const tr_opts_t *o, float *const *init);
void tr_free(trainer_t *t);
/* After the model is written: remove o's checkpoint (its run is done). */
void tr_finish(const tr_opts_t *o);
/* The exit status of a run stopped by --stop-after (EX_TEMPFAIL: run it
 * again to go on). */
enum { TR_STOPPED = 75 };
/* Right predictions among the records idx[0..n) and (loss not NULL) their
 * mean -log P[n, y_n] (or m->loss). */
int64_t tr_score(const labelled_t *d, const int64_t *idx, int64_t n, const tr_model_t *m, double *loss);
/* A classifier model's header: the data's attributes, one record, no
 * fields yet (the stage adds them), the classes. */
void tr_model_header(theader *h, const labelled_t *d, const char *classes);
/* PREFIX_epochs, _best_epoch, _train_loss, _train_accuracy, _valid_loss, _valid_accuracy */
void tr_result_attrs(theader *h, const trainer_t *t, const char *prefix);
/* The one record of h from its fields' arrays, on stdout. */
void tr_write_model(const theader *h, const void *const *fields);
/* Predict the x of path with m (D inputs, K classes; standardised by mu,
 * sd when not NULL): label, pred, prob on stdout (pred_open). */
void tr_predict(sin_t *ms, const char *path, int64_t D, int64_t K, const char *classes, const tr_model_t *m,
		const float *mu, const float *sd);

/* The arguments MODEL [FILE] from argv[first..]: usage() if not one or two,
 * a usage error if both would be stdin. */
void model_and_data(int argc, char **argv, int first, const char **model, const char **data);

/* --- patches (patch.c) ------------------------------------------------------ */

/* Each of the n rows of X (n,D) becomes (x - mean(x)) / sqrt(var(x) + eps),
 * var with D - 1: Coates' brightness and contrast normalisation. */
void patch_normalize(float *X, int64_t n, int64_t D, double eps);
/* The eps of h's attribute patch_normalize, or -1 without it (dies naming
 * input when it is not a number >= 0). */
double patch_normalize_attr(const theader *h, const char *input);
/* The whitening model's fingerprint (mean (D), W (D,D)) as 16 hex digits:
 * the attribute zca_fingerprint that tiny-zca writes on data it whitens. */
void zca_fingerprint(const float *mean, const float *W, int64_t D, char buf[17]);
/* A model's fingerprint, of its two main arrays' bytes, as 16 hex digits:
 * the attribute features_of of the features tiny-features and tiny-conv
 * make with it. */
void model_fingerprint(const void *a, size_t na, const void *b, size_t nb, char buf[17]);
/* FNV-1a: h (0xcbf29ce484222325 to start) updated with n bytes at p. */
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

/* --- restricted Boltzmann machines (rbm.c) -------------------------------- */

/* rbm_t and its functions compute in f32; rbm64_t and the rbm64_ ones are
 * the same in f64 (tiny-rbm-train --f64): lib/rbm.h is read twice. */
#define RBM_REAL float
#define RBM(name) rbm_##name
#include "rbm.h"
#undef RBM_REAL
#undef RBM
#define RBM_REAL double
#define RBM(name) rbm64_##name
#include "rbm.h"
#undef RBM_REAL
#undef RBM

#endif
