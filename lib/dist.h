/*
 * dist.h - the processes of a distributed run (chapter 4 of the report), on
 * Open MPI.  Only tiny-rbm-train links dist.c (and libmpi); the header
 * keeps MPI's types out, so nothing else needs mpi.h.
 *
 * Without mpirun (no OMPI_COMM_WORLD_SIZE in the environment) nothing is
 * initialised: the program is rank 0 of K = 1 and every collective is a
 * copy.  Under mpirun every MPI call returns its error instead of aborting,
 * and a failed call ends the process with one line naming the rank and the
 * operation.
 *
 * Every collective counts the bytes this process sends and receives as if
 * the operation were done by point-to-point messages straight to the
 * processes that need them (a broadcast of n bytes: the root sends
 * (K-1) n, each other receives n; an allgather of n bytes each: each sends
 * (K-1) n and receives (K-1) n), which is what the report's Table 4.1
 * counts.  Open MPI's algorithms may relay through other ranks; the counts
 * are of the data the algorithm needs moved, not of TCP segments.
 */
#ifndef TINY_DIST_H
#define TINY_DIST_H

#include <stdint.h>

/* what the bytes were for: the minibatches' exchanges, the weight
 * synchronisation (scheme 4.2), and setting up (data, state, checkpoints) */
enum { DIST_TRAIN, DIST_SYNC, DIST_SETUP, DIST_NCAT };

typedef struct {
	int rank, K;
	int mpi;                          /* MPI_Init was called */
	uint64_t sent[DIST_NCAT], recvd[DIST_NCAT];
	double comm_seconds;              /* spent inside DIST_TRAIN collectives */
} dist_t;

extern dist_t dist;

void dist_init(int *argc, char ***argv);
void dist_finalize(void);
/* first index of part r of n things split over K: n r / K */
int64_t dist_split(int64_t n, int r, int K);

/* n bytes from rank 0 to all (any size: sent in pieces) */
void dist_bcast(void *buf, int64_t n, int cat);
/* Every rank's counts[r] bytes, in rank order, into all; mine is this
 * rank's counts[rank] bytes. */
void dist_allgatherv(const void *mine, void *all, const int64_t *counts, int cat);
/* in holds K blocks of counts[r] numbers of size bytes (4: float, 8:
 * double) in rank order; out (counts[rank]) gets the sum over ranks of this
 * rank's block. */
void dist_reduce_scatter_sum(const void *in, void *out, const int64_t *counts, size_t size, int cat);
/* gather to / scatter from rank 0: all is K blocks of counts[r] bytes */
void dist_gatherv(const void *mine, void *all, const int64_t *counts, int cat);
void dist_scatterv(const void *all, void *mine, const int64_t *counts, int cat);
/* send holds K blocks of scounts[r] bytes, block r for rank r; recv gets
 * K blocks of rcounts[r] bytes, block r from rank r */
void dist_alltoallv(const void *send, const int64_t *scounts, void *recv, const int64_t *rcounts, int cat);
/* 1 when ok is true on every rank */
int dist_all_ok(int ok, int cat);
/* sum of every rank's counters, at rank 0 (not counted themselves) */
void dist_totals(uint64_t *sent, uint64_t *recvd);
/* the largest comm_seconds over the ranks, at rank 0 */
double dist_max_comm_seconds(void);

/* --hosts a,b,c: run this program again under mpirun, one process per
 * host, with every argument but --hosts; mpirun's reports of a failed
 * process or host become one line each.  Returns mpirun's exit status. */
int dist_launch(const char *hosts, int argc, char **argv);

#endif
