/* rng.c - xoshiro256** (Blackman and Vigna), seeded through splitmix64.
 * A (seed, stream) pair names one sequence, so work split over threads or
 * records can take one stream each and stay independent of the split. */
#include <math.h>

#include "tiny.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;
	uint64_t y = splitmix64(&x) ^ (stream * 0xd1b54a32d192ed03ULL + 0x8cb92ba72f3d8dd7ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&y);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_u64(rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_uniform(rng_t *r)
{
	return (rng_u64(r) >> 11) * 0x1.0p-53;
}

double rng_normal(rng_t *r)
{
	/* Box-Muller without a cached spare, so the sequence never depends on
	 * how calls interleave. */
	double u = 1.0 - rng_uniform(r), v = rng_uniform(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

uint64_t rng_below(rng_t *r, uint64_t n)
{
	/* Lemire's multiply-shift with rejection: no modulo bias. */
	unsigned __int128 m = (unsigned __int128)rng_u64(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)rng_u64(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}
