/* header_fuzz.c - libFuzzer target for the stream header parser: whatever
 * the bytes, th_parse must return 0 or -1 with a message, never crash, and a
 * header it accepts must format back to bytes it accepts again. */
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[256];
	size_t hl;
	if (th_parse_first_line((const char *)data, size, &hl, err, sizeof err) < 0 || hl != size)
		/* also feed it as a whole header of the wrong length */
		hl = size;
	theader h;
	err[0] = 0;
	if (th_parse(&h, (const char *)data, hl, err, sizeof err) == 0) {
		size_t len;
		char *out = th_format(&h, &len, err, sizeof err);
		if (out) {
			theader h2;
			if (th_parse(&h2, out, len, err, sizeof err) != 0)
				abort();
			if (h2.nfields != h.nfields || h2.recsize != h.recsize || h2.count != h.count ||
			    h2.nattrs != h.nattrs)
				abort();
			th_free(&h2);
			free(out);
		}
		th_free(&h);
	} else if (!err[0]) {
		abort();  /* a rejection must say why */
	}
	return 0;
}
