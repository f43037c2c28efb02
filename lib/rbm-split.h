/*
 * rbm-split.h - tiny-rbm-train's RBM split over the processes of an Open
 * MPI run (chapter 4 of the report); see lib/rbm-split.c.  The file is
 * compiled twice, as tiny-rbm-train is, so the names are RBM(x), one set
 * per precision: include after tiny.h and real.h.
 */
#ifndef TINY_RBM_SPLIT_H
#define TINY_RBM_SPLIT_H

/* Split the model over the dist.K processes by scheme 45 or 42 (section
 * 4.5 or 4.2), for V visible and H hidden units in minibatches of B: on
 * under mpirun, and under scheme 4.2 on one process too.  Every process
 * needs units of its own: with more processes than V or H, rank 0 dies
 * saying so (mpirun then stops the rest). */
void RBM(split_init)(int scheme, int64_t V, int64_t H, int64_t B);
int RBM(split_on)(void);
/* The exchanges of RBM(cd_step) under scheme 4.5; NULL when off. */
const RBM(split_t) *RBM(split_hooks)(void);
/* Rank 0's whole state st (the other ranks' holds only m.V, m.gaussian
 * and the position) becomes every rank's share; pcd: with chains (B,V). */
void RBM(split_state)(RBM(train_t) *st, int pcd, int64_t B);
/* One CD-1 minibatch X (B,V) of scheme 4.2, as RBM(cd_step) is called;
 * returns the reconstruction error. */
double RBM(split_step_42)(RBM(train_t) *s, const RBM(cd_t) *o, RBM(work_t) *w, const real *X, int64_t B, uint64_t g,
			  double mom);
/* --comm-only: the exchanges of one minibatch without the arithmetic. */
double RBM(split_comm_only)(const RBM(train_t) *s, const RBM(cd_t) *o, RBM(work_t) *w, int64_t B);
/* Scheme 4.2's weight synchronisation. */
void RBM(split_sync)(RBM(train_t) *s);
/* The whole state at rank 0 (every rank takes part), for a checkpoint
 * (with_state) or the model; free with RBM(unsplit_free). */
void RBM(unsplit)(const RBM(train_t) *st, int with_state, RBM(train_t) *full);
void RBM(unsplit_free)(RBM(train_t) *full);
/* Rank 0 prints the bytes all ranks sent (K > 1, not with -q): batches
 * minibatches of B, in secs seconds. */
void RBM(split_report)(int64_t batches, int64_t B, double secs);

#endif
