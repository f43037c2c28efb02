/* err.c - one-line errors, checked allocation, temporary files removed on death. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tiny.h"
#include "version.h"

const char *tiny_prog = "tiny";
const char *tiny_usage = "";
int tiny_argc;
char **tiny_argv;

/* The program's manual page as text, made by the build from
 * man/tiny-STAGE.1 (build/help/STAGE.c); a program without one (the test
 * tools) prints its synopsis for --help. */
__attribute__((weak)) const char tiny_help[] = "";

static char *tmpfiles[16];
static int ntmpfiles;

static int tiny_stdin_closed;

void tiny_need_stdin(void)
{
	if (tiny_stdin_closed)
		die("stdin: closed; expected a stream on stdin or a FILE argument");
}

void tiny_init(int argc, char **argv, const char *usage_line)
{
	/* A closed stdin, stdout or stderr (`<&-`) would be taken by the next
	 * file this stage opens, which would then be read as stdin or written
	 * over as stdout.  Hold each closed one with /dev/null opened for
	 * reading only: writes to it fail loudly, and a read of stdin is
	 * refused by tiny_need_stdin. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			if (open("/dev/null", O_RDONLY) != fd)
				_exit(2);
			if (fd == 0)
				tiny_stdin_closed = 1;
		}
	/* keep the command line as typed: getopt_long permutes argv, and a
	 * stage may cut an option's text in place (tiny-cov --part I/K) */
	tiny_argc = argc;
	tiny_argv = xmalloc((argc + 1) * sizeof *tiny_argv);
	for (int i = 0; i < argc; i++)
		tiny_argv[i] = xstrdup(argv[i]);
	tiny_argv[argc] = NULL;
	if (argv && argv[0]) {
		const char *slash = strrchr(argv[0], '/');
		tiny_prog = slash ? slash + 1 : argv[0];
	}
	tiny_usage = usage_line;
	/* --version and -h/--help anywhere before "--", in every program */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--version")) {
			printf("%s (tiny, stream format %d) %s\n", tiny_prog, TINY_VERSION, TINY_COMMIT);
			exit(0);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			if (tiny_help[0])
				fputs(tiny_help, stdout);
			else
				printf("usage: %s\n", usage_line);
			exit(0);
		}
}

static void vmsg(const char *fmt, va_list ap)
{
	int e = errno;
	size_t n = strlen(fmt);
	fprintf(stderr, "%s: ", tiny_prog);
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(e));
	fputc('\n', stderr);
}

int tiny_stdout_closed;

/* A stage that fails writes nothing more: what stdout holds unwritten was
 * made from input now known to be bad, so it is dropped, not flushed by
 * exit().  Files being written under a temporary name are removed. */
static void remove_tmpfiles(void)
{
	if (!tiny_stdout_closed)
		__fpurge(stdout);
	for (int i = 0; i < ntmpfiles; i++)
		if (tmpfiles[i])
			unlink(tmpfiles[i]);
}

/* Remove PATH.tmp.PID.XXXXXX files beside path whose writer PID is no
 * longer alive on this host (a writer killed by SIGKILL cannot remove its
 * own), so that they do not pile up. */
static void remove_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path + 1)) : xstrdup("./");
	const char *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			char *end;
			if (strncmp(e->d_name, base, blen) || strncmp(e->d_name + blen, ".tmp.", 5))
				continue;
			long pid = strtol(e->d_name + blen + 5, &end, 10);
			if (end == e->d_name + blen + 5 || *end != '.' || strlen(end) != 7 || pid <= 0 ||
			    pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
				continue;
			char *stale = xmalloc(strlen(dir) + strlen(e->d_name) + 1);
			sprintf(stale, "%s%s", dir, e->d_name);
			unlink(stale);
			free(stale);
		}
		closedir(d);
	}
	free(dir);
}

int tmpfile_create(const char *path, char **tmp)
{
	remove_stale(path);
	*tmp = xmalloc(strlen(path) + 40);
	sprintf(*tmp, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
	int fd = mkstemp(*tmp);
	if (fd < 0)
		die("%s: cannot create a temporary file:", *tmp);
	tmpfile_register(*tmp);
	/* the mode any file created here gets, not mkstemp's 0600 */
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) != 0)
		die("%s:", *tmp);
	return fd;
}

void tmpfile_unlink_all(void)
{
	for (int i = 0; i < ntmpfiles; i++)
		if (tmpfiles[i])
			unlink(tmpfiles[i]);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	remove_tmpfiles();
	exit(1);
}

void exit_quietly(int status)
{
	remove_tmpfiles();
	exit(status);
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void usage(void)
{
	fprintf(stderr, "usage: %s\n", tiny_usage);
	remove_tmpfiles();
	exit(2);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	usage();
}

char tiny_last_input[256];
int64_t tiny_last_recsize;

void die_oom(size_t n)
{
	/* the size is most often one a header asked for: name that input */
	if (tiny_last_input[0])
		die("out of memory allocating %zu bytes (the last input opened, %s, has records of %" PRId64 " bytes)",
		    n, tiny_last_input, tiny_last_recsize);
	die("out of memory allocating %zu bytes", n);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom(size && n > SIZE_MAX / size ? SIZE_MAX : n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die_oom(strlen(s) + 1);
	return d;
}

void tmpfile_register(const char *path)
{
	for (int i = 0; i < ntmpfiles; i++)
		if (!tmpfiles[i]) {
			tmpfiles[i] = xstrdup(path);
			return;
		}
	if (ntmpfiles == (int)(sizeof tmpfiles / sizeof *tmpfiles))
		die("too many temporary files open");
	tmpfiles[ntmpfiles++] = xstrdup(path);
}

void tmpfile_forget(const char *path)
{
	for (int i = 0; i < ntmpfiles; i++)
		if (tmpfiles[i] && !strcmp(tmpfiles[i], path)) {
			free(tmpfiles[i]);
			tmpfiles[i] = NULL;
		}
}
