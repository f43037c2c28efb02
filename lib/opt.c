/* opt.c - command-line numbers parsed whole and range-checked (exit 2). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

int64_t opt_i64(const char *opt, const char *arg, int64_t lo, int64_t hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (!*arg || *end || errno || v < lo || v > hi)
		usage_error("%s %s: expected an integer from %" PRId64 " to %" PRId64, opt, arg, lo, hi);
	return v;
}

uint64_t opt_u64(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	if (*arg == '-' || *arg == '+' || !*arg)
		usage_error("%s %s: expected a non-negative integer", opt, arg);
	unsigned long long v = strtoull(arg, &end, 10);
	if (*end || errno)
		usage_error("%s %s: expected a non-negative integer below 2^64", opt, arg);
	return v;
}

double opt_f64(const char *opt, const char *arg, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (!*arg || *end || errno || !isfinite(v) || v < lo || v > hi)
		usage_error("%s %s: expected a number from %g to %g", opt, arg, lo, hi);
	return v;
}

int opt_choice(const char *opt, const char *arg, const char *const *choices)
{
	char list[512] = "";
	for (int i = 0; choices[i]; i++) {
		if (!strcmp(arg, choices[i]))
			return i;
		if (strlen(list) + strlen(choices[i]) + 3 < sizeof list) {
			if (i)
				strcat(list, ", ");
			strcat(list, choices[i]);
		}
	}
	usage_error("%s %s: expected one of %s", opt, arg, list);
}

int opt_list(const char *arg, char ***words)
{
	char *list = xstrdup(arg);
	for (char *p = list; *p; p++)
		if (*p == ',')
			*p = ' ';
	int n = th_words(list, words);
	free(list);
	return n;
}
