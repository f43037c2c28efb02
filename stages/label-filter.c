/*
 * tiny-label-filter - keep or drop classes, renumber, cap records per class.
 *
 * usage: tiny-label-filter [-q] [--coarse] [--keep LIST | --drop LIST]
 *                          [--per-class N] [FILE]
 *
 * LIST is comma-separated class names (from the `classes` attribute) or
 * label numbers.  Kept classes are renumbered 0..K-1 in their old order and
 * `classes` lists them.  --coarse first makes CIFAR-100's superclass the
 * label: the field `coarse` is renamed `label` (and the old `label` becomes
 * `fine`), `coarse_classes` becomes `classes` (and the old `classes`
 * becomes `fine_classes`); no byte of a record moves.  --per-class N keeps
 * the first N records of each class.  Records stream through, so the output
 * count is "unknown" whenever a record may be dropped.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

static const char *usage_line =
	"tiny-label-filter [-q] [--coarse] [--keep LIST | --drop LIST] [--per-class N] [FILE]";

#define MAX_CLASSES (1 << 20)

/* Rename field `from` to `to` and attribute likewise (swap for --coarse). */
static void rename_attr(theader *h, const char *from, const char *to)
{
	for (int i = 0; i < h->nattrs; i++)
		if (!strcmp(h->attrs[i].key, from)) {
			free(h->attrs[i].key);
			h->attrs[i].key = xstrdup(to);
		}
}

/* Resolve one LIST item to a label number: a class of the input, so an
 * item it lacks is a data error (exit 1) naming the input and its classes. */
static int64_t resolve(const char *input, const char *opt, const char *item, char **names, int nclasses)
{
	for (int i = 0; i < nclasses; i++)
		if (!strcmp(names[i], item))
			return i;
	char *end;
	long long v = strtoll(item, &end, 10);
	if (*item && !*end && v >= 0 && v < (nclasses ? nclasses : MAX_CLASSES))
		return v;
	if (!nclasses)
		die("%s has no 'classes' attribute: %s %s must be a label from 0 to %d", input, opt, item,
		    MAX_CLASSES - 1);
	size_t len = 1;
	for (int i = 0; i < nclasses; i++)
		len += strlen(names[i]) + 2;
	char *list = xmalloc(len);
	list[0] = 0;
	for (int i = 0; i < nclasses; i++) {
		if (i)
			strcat(list, ", ");
		strcat(list, names[i]);
	}
	die("%s has no class '%s' (%s): its classes are %s, or labels 0..%d", input, item, opt, list, nclasses - 1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"keep", required_argument, 0, 'k'}, {"drop", required_argument, 0, 'd'},
		{"coarse", no_argument, 0, 'c'}, {"per-class", required_argument, 0, 'n'},
		{"quiet", no_argument, 0, 'q'}, {0}};
	const char *keep = NULL, *drop = NULL;
	int coarse = 0, c;
	int64_t per_class = -1;
	tiny_init(argc, argv, usage_line);
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': keep = optarg; break;
		case 'd': drop = optarg; break;
		case 'c': coarse = 1; break;
		case 'n': per_class = opt_i64("--per-class", optarg, 0, INT64_MAX); break;
		case 'q': tiny_quiet = 1; break;
		default: usage();
		}
	}
	if (keep && drop)
		usage_error("--keep and --drop exclude each other");
	if (argc - optind > 1)
		usage_error("expected at most one input file");

	sin_t *in = sin_open(optind < argc ? argv[optind] : NULL);
	theader h;
	th_copy(&h, &in->h);
	if (coarse) {
		int fl = th_find(&h, "label"), fc = th_find(&h, "coarse");
		if (fc < 0)
			die("%s: --coarse needs a 'coarse' field (CIFAR-100's superclass)", in->name);
		if (!th_attr(&h, "coarse_classes"))
			die("%s: --coarse needs a 'coarse_classes' attribute", in->name);
		if (fl >= 0)
			strcpy(h.fields[fl].name, "fine");
		strcpy(h.fields[fc].name, "label");
		rename_attr(&h, "classes", "fine_classes");
		rename_attr(&h, "coarse_classes", "classes");
	}
	const tfield *lf = th_need(&h, "label", in->name);
	if (!dtype_is_int(lf->dtype) || lf->n != 1)
		die("%s: field 'label' is %s with %" PRId64 " values, expected one integer", in->name,
		    dtype_names[lf->dtype], lf->n);

	char **names;
	int nclasses = th_words(th_attr(&h, "classes"), &names);
	if (nclasses > MAX_CLASSES)
		die("%s: more than %d classes", in->name, MAX_CLASSES);
	int64_t nlabels = nclasses ? nclasses : MAX_CLASSES;

	/* newnum[l] is the output label of class l, or -1 if dropped */
	int64_t *newnum = xmalloc(nlabels * sizeof *newnum);
	int64_t *seen = xcalloc(nlabels, sizeof *seen);
	for (int64_t l = 0; l < nlabels; l++)
		newnum[l] = keep ? -1 : l;
	const char *list = keep ? keep : drop;
	if (list) {
		char **items;
		int nitems = opt_list(list, &items);
		if (nitems == 0)
			usage_error("%s: empty class list", keep ? "--keep" : "--drop");
		for (int i = 0; i < nitems; i++)
			newnum[resolve(in->name, keep ? "--keep" : "--drop", items[i], names, nclasses)] = keep ? 0 : -1;
		th_words_free(items, nitems);
		int64_t k = 0;
		for (int64_t l = 0; l < nlabels; l++)
			if (newnum[l] >= 0)
				newnum[l] = k++;
		if (nclasses) {
			size_t len = 0;
			char *cl = xmalloc(1);
			cl[0] = 0;
			for (int l = 0; l < nclasses; l++)
				if (newnum[l] >= 0) {
					cl = xrealloc(cl, len + strlen(names[l]) + 2);
					len += sprintf(cl + len, "%s%s", len ? " " : "", names[l]);
				}
			th_attr_set(&h, "classes", cl);
			free(cl);
		}
	}
	if (list || per_class >= 0)
		h.count = TINY_COUNT_UNKNOWN;
	th_add_history(&h);

	sout_t *out = sout_open(NULL, &h);
	int64_t R = h.recsize, B = R > (1 << 20) ? 1 : (1 << 20) / R, n, index = 0, kept = 0;
	unsigned char *buf = xmalloc((size_t)(B * R)), *obuf = xmalloc((size_t)(B * R));
	int64_t *labels = xmalloc(B * sizeof *labels);
	while ((n = sin_read(in, buf, B)) > 0) {
		int64_t m = 0;
		tf_get_i64(lf, buf, n, R, labels);
		for (int64_t r = 0; r < n; r++, index++) {
			int64_t l = labels[r];
			if (l < 0 || l >= nlabels)
				die("%s: record %" PRId64 " has label %" PRId64 ", outside the %" PRId64 " classes", in->name,
				    index, l, nlabels);
			if (newnum[l] < 0 || (per_class >= 0 && seen[l] >= per_class))
				continue;
			seen[l]++;
			memcpy(obuf + m * R, buf + r * R, R);
			tf_set_i64(lf, obuf + m * R, newnum[l]);
			m++;
		}
		sout_write(out, obuf, m);
		kept += m;
	}
	if (!tiny_quiet)
		fprintf(stderr, "%s: kept %" PRId64 " of %" PRId64 " records\n", tiny_prog, kept, index);
	sout_close(out);
	sin_close(in);
	th_words_free(names, nclasses);
	th_free(&h);
	free(buf);
	free(obuf);
	free(labels);
	free(newnum);
	free(seen);
	return 0;
}
