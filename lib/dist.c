/* dist.c - Open MPI for tiny-rbm-train: start-up, counted collectives, and
 * the --hosts launcher.  See dist.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mpi.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dist.h"
#include "tiny.h"

dist_t dist = {.rank = 0, .K = 1};

static void check(int err, const char *what)
{
	if (err == MPI_SUCCESS)
		return;
	char msg[MPI_MAX_ERROR_STRING] = "";
	int len = 0;
	MPI_Error_string(err, msg, &len);
	die("rank %d of %d: %s failed (%s): a peer process has died or cannot be reached", dist.rank, dist.K, what,
	    msg);
}

/* mpirun ends the other ranks with SIGTERM when one fails: a checkpoint
 * half-written under its temporary name goes, the last whole one stays */
static void on_term(int sig)
{
	tmpfile_unlink_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

void dist_init(int *argc, char ***argv)
{
	if (!getenv("OMPI_COMM_WORLD_SIZE"))
		return;   /* no mpirun: a singleton, without MPI at all */
	signal(SIGTERM, on_term);
	check(MPI_Init(argc, argv), "MPI_Init");
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &dist.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &dist.K);
	dist.mpi = 1;
	/* mpirun merges every rank's stdout into one: only rank 0's may be
	 * the output (a library's chatter on another rank would corrupt it) */
	if (dist.rank) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0)
			die("rank %d: /dev/null:", dist.rank);
		close(fd);
	}
}

void dist_finalize(void)
{
	if (dist.mpi)
		MPI_Finalize();
	dist.mpi = 0;
}

int64_t dist_split(int64_t n, int r, int K)
{
	return n * r / K;
}

static int icount(int64_t n, const char *what)
{
	if (n < 0 || n > INT_MAX)
		die("%s: %lld bytes is more than one MPI message can carry", what, (long long)n);
	return (int)n;
}

/* int counts and displacements for the v-collectives */
static void vcounts(const int64_t *counts, int *c, int *displ, const char *what)
{
	int64_t at = 0;
	for (int r = 0; r < dist.K; r++) {
		c[r] = icount(counts[r], what);
		displ[r] = icount(at, what);
		at += counts[r];
	}
	icount(at, what);
}

static double t_in(int cat)
{
	return cat == DIST_TRAIN ? now_seconds() : 0;
}

static void t_out(int cat, double t0)
{
	if (cat == DIST_TRAIN)
		dist.comm_seconds += now_seconds() - t0;
}

void dist_bcast(void *buf, int64_t n, int cat)
{
	if (dist.K == 1)
		return;
	double t0 = t_in(cat);
	for (int64_t at = 0; at < n; at += 1 << 30) {
		int64_t part = n - at < (1 << 30) ? n - at : (1 << 30);
		check(MPI_Bcast((char *)buf + at, (int)part, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
	}
	t_out(cat, t0);
	if (dist.rank == 0)
		dist.sent[cat] += (uint64_t)n * (uint64_t)(dist.K - 1);
	else
		dist.recvd[cat] += (uint64_t)n;
}

void dist_allgatherv(const void *mine, void *all, const int64_t *counts, int cat)
{
	int K = dist.K, c[K], displ[K];
	vcounts(counts, c, displ, "MPI_Allgatherv");
	if (K == 1) {
		memmove(all, mine, (size_t)counts[0]);
		return;
	}
	double t0 = t_in(cat);
	check(MPI_Allgatherv(mine, c[dist.rank], MPI_BYTE, all, c, displ, MPI_BYTE, MPI_COMM_WORLD),
	      "MPI_Allgatherv");
	t_out(cat, t0);
	for (int r = 0; r < K; r++)
		if (r != dist.rank) {
			dist.sent[cat] += (uint64_t)counts[dist.rank];
			dist.recvd[cat] += (uint64_t)counts[r];
		}
}

void dist_reduce_scatter_sum(const void *in, void *out, const int64_t *counts, size_t size, int cat)
{
	int K = dist.K, c[K], displ[K];
	vcounts(counts, c, displ, "MPI_Reduce_scatter");
	if (K == 1) {
		memmove(out, in, (size_t)counts[0] * size);
		return;
	}
	double t0 = t_in(cat);
	check(MPI_Reduce_scatter(in, out, c, size == 8 ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
	      "MPI_Reduce_scatter");
	t_out(cat, t0);
	for (int r = 0; r < K; r++)
		if (r != dist.rank) {
			dist.sent[cat] += (uint64_t)counts[r] * size;
			dist.recvd[cat] += (uint64_t)counts[dist.rank] * size;
		}
}

void dist_gatherv(const void *mine, void *all, const int64_t *counts, int cat)
{
	int K = dist.K, c[K], displ[K];
	vcounts(counts, c, displ, "MPI_Gatherv");
	if (K == 1) {
		memmove(all, mine, (size_t)counts[0]);
		return;
	}
	check(MPI_Gatherv(mine, c[dist.rank], MPI_BYTE, all, c, displ, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Gatherv");
	for (int r = 1; r < K; r++)
		if (dist.rank == 0)
			dist.recvd[cat] += (uint64_t)counts[r];
	if (dist.rank)
		dist.sent[cat] += (uint64_t)counts[dist.rank];
}

void dist_scatterv(const void *all, void *mine, const int64_t *counts, int cat)
{
	int K = dist.K, c[K], displ[K];
	vcounts(counts, c, displ, "MPI_Scatterv");
	if (K == 1) {
		memmove(mine, all, (size_t)counts[0]);
		return;
	}
	check(MPI_Scatterv(all, c, displ, MPI_BYTE, mine, c[dist.rank], MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Scatterv");
	for (int r = 1; r < K; r++)
		if (dist.rank == 0)
			dist.sent[cat] += (uint64_t)counts[r];
	if (dist.rank)
		dist.recvd[cat] += (uint64_t)counts[dist.rank];
}

void dist_alltoallv(const void *send, const int64_t *scounts, void *recv, const int64_t *rcounts, int cat)
{
	int K = dist.K, sc[K], sd[K], rc[K], rd[K];
	vcounts(scounts, sc, sd, "MPI_Alltoallv");
	vcounts(rcounts, rc, rd, "MPI_Alltoallv");
	if (K == 1) {
		memmove(recv, send, (size_t)scounts[0]);
		return;
	}
	double t0 = t_in(cat);
	check(MPI_Alltoallv(send, sc, sd, MPI_BYTE, recv, rc, rd, MPI_BYTE, MPI_COMM_WORLD), "MPI_Alltoallv");
	t_out(cat, t0);
	for (int r = 0; r < K; r++)
		if (r != dist.rank) {
			dist.sent[cat] += (uint64_t)scounts[r];
			dist.recvd[cat] += (uint64_t)rcounts[r];
		}
}

int dist_all_ok(int ok, int cat)
{
	if (dist.K == 1)
		return ok;
	int all = 0;
	double t0 = t_in(cat);
	check(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD), "MPI_Allreduce");
	t_out(cat, t0);
	dist.sent[cat] += (uint64_t)(dist.K - 1) * sizeof ok;
	dist.recvd[cat] += (uint64_t)(dist.K - 1) * sizeof ok;
	return all;
}

void dist_totals(uint64_t *sent, uint64_t *recvd)
{
	if (dist.K == 1) {
		memcpy(sent, dist.sent, sizeof dist.sent);
		memcpy(recvd, dist.recvd, sizeof dist.recvd);
		return;
	}
	check(MPI_Reduce(dist.sent, sent, DIST_NCAT, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD), "MPI_Reduce");
	check(MPI_Reduce(dist.recvd, recvd, DIST_NCAT, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD), "MPI_Reduce");
}

double dist_max_comm_seconds(void)
{
	double t = dist.comm_seconds, m = t;
	if (dist.K > 1)
		check(MPI_Reduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD), "MPI_Reduce");
	return m;
}

/* --- the --hosts launcher ---------------------------------------------------------- */

/* mpirun's stderr, a line at a time.  Its boxed reports (between lines of
 * dashes) are held until the box ends: a dead rank or an unreachable host
 * becomes one line, the notices that only repeat a rank's own message are
 * dropped, and any other box passes through whole.  Lines outside boxes
 * (the ranks' own messages, ssh's) pass through as they come. */
typedef struct {
	int in_box, n;
	char *lines[64];
} box_t;

static void box_end(box_t *b, const char *hosts)
{
	int said = 0, noise = 0;
	for (int i = 0; i < b->n; i++) {
		const char *l = b->lines[i];
		int rank, sig;
		char node[256], signame[64] = "";
		if (sscanf(l, "mpirun noticed that process rank %d with PID %*d on node %255s exited on signal %d (%63[^)])",
			   &rank, node, &sig, signame) >= 3) {
			fprintf(stderr, "%s: rank %d on host %s died (signal %d%s%s); the others were stopped\n", tiny_prog,
				rank, node, sig, *signame ? ", " : "", signame);
			said = 1;
		} else if (!said && strstr(l, "unable to reliably start")) {
			fprintf(stderr, "%s: mpirun could not start a process on every host of --hosts %s\n", tiny_prog, hosts);
			said = 1;
		} else if (!said && strstr(l, "not enough slots")) {
			fprintf(stderr, "%s: mpirun found not enough slots on --hosts %s\n", tiny_prog, hosts);
			said = 1;
		} else if (strstr(l, "exited with non-zero status") || strstr(l, "Primary job  terminated normally") ||
			   strstr(l, "Primary job terminated normally"))
			noise = 1;
	}
	for (int i = 0; i < b->n; i++) {
		if (!said && !noise)
			fputs(b->lines[i], stderr);
		free(b->lines[i]);
	}
	b->n = 0;
}

static void filter_line(box_t *b, const char *line, const char *hosts)
{
	if (line[0] == '-' && strspn(line, "-\n") == strlen(line)) {
		if (b->in_box)
			box_end(b, hosts);
		b->in_box = !b->in_box;
		return;
	}
	if (!b->in_box)
		fputs(line, stderr);
	else if (b->n < (int)(sizeof b->lines / sizeof *b->lines))
		b->lines[b->n++] = xstrdup(line);
}

int dist_launch(const char *hosts, int argc, char **argv)
{
	int K = 1;
	for (const char *p = hosts; *p; p++)
		K += *p == ',';
	if (!*hosts || strstr(hosts, ",,") || hosts[0] == ',' || hosts[strlen(hosts) - 1] == ',')
		usage_error("--hosts %s: expected host names separated by commas", hosts);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		die("/proc/self/exe:");
	self[n] = 0;
	char np[32];
	snprintf(np, sizeof np, "%d", K);
	char **av = xcalloc((size_t)argc + 16, sizeof *av);
	int k = 0;
	av[k++] = "mpirun";
	if (getuid() == 0)
		av[k++] = "--allow-run-as-root";
	av[k++] = "--host";
	av[k++] = (char *)hosts;
	av[k++] = "-np";
	av[k++] = np;
	av[k++] = self;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hosts")) {
			i++;
			continue;
		}
		if (!strncmp(argv[i], "--hosts=", 8))
			continue;
		av[k++] = argv[i];
	}
	int fd[2];
	if (pipe(fd))
		die("pipe:");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork:");
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execvp(av[0], av);
		fprintf(stderr, "%s: cannot run mpirun (Debian's openmpi-bin): %s\n", tiny_prog, strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	/* the user's ^C or a kill goes to mpirun, which stops the ranks */
	signal(SIGINT, SIG_IGN);
	FILE *err = fdopen(fd[0], "r");
	char line[4096];
	box_t box = {0};
	while (fgets(line, sizeof line, err))
		filter_line(&box, line, hosts);
	box_end(&box, hosts);   /* a box mpirun left open */
	fclose(err);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid:");
	free(av);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
