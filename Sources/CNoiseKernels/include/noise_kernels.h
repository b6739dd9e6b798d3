#ifndef WHOLEBRAIN_NOISE_KERNELS_H
#define WHOLEBRAIN_NOISE_KERNELS_H
#include <stdint.h>

/// Whether this CPU can run `wb_fast_normals` (AVX-512 F, DQ and VL); checked at run time,
/// so one binary runs everywhere and uses the vector kernel only where it exists.
int wb_fast_normals_available(void);

/// The ziggurat fast path of `CounterNoise.normal` for up to 32 consecutive steps of one
/// (node, variable): hashes and uniforms eight steps per AVX-512 vector (counter
/// `base | (step & 0xffffffff) << 12`, hash mix((counter ^ key1) * key2) with the SplitMix64
/// finaliser, u = 2 (top 53 bits + 1/2) 2^-53 - 1), then per step the layer from the low 7
/// bits, accepted if |u| < ratio[layer], value u x[layer]. Writes accepted values to
/// out[s * stride] and returns a bit mask of the steps it did not accept, which the caller
/// completes with the slow path. Same operations as the Swift code, so the same bits.
uint32_t wb_fast_normals(uint64_t key1, uint64_t key2, uint64_t base, uint64_t first_step, int count,
                         const double *x, const double *ratio, double *out, long stride);

#endif
