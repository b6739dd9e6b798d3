// AVX-512 kernel for the fast path of WholeBrain's counter-based ziggurat normals.
// Floating-point contraction is off: every multiply and add is rounded on its own, as in the
// Swift reference (`CounterNoise.normal`), so both give the same bits.
#include "wholebrain_kernels.h"

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

int wb_avx512_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
uint32_t wb_fast_normals(uint64_t key1, uint64_t key2, uint64_t base, uint64_t first_step, int count,
                         const double *x, const double *ratio, double *out, long stride) {
    const __m512i k1 = _mm512_set1_epi64((long long)key1), k2 = _mm512_set1_epi64((long long)key2);
    const __m512i m1 = _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL);
    const __m512i m2 = _mm512_set1_epi64((long long)0x94d049bb133111ebULL);
    const __m512i low32 = _mm512_set1_epi64(0xffffffffLL);
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    const __m512d half = _mm512_set1_pd(0.5), scale = _mm512_set1_pd(0x1p-53);
    const __m512d two = _mm512_set1_pd(2.0), one = _mm512_set1_pd(1.0);
    // Hashes and uniforms eight steps per vector; the table test per value (no gathers).
    uint64_t bits[32];
    double u[32];
    for (int s = 0; s < count; s += 8) {
        __m512i step = _mm512_and_si512(_mm512_add_epi64(_mm512_set1_epi64((long long)(first_step + (uint64_t)s)), lane), low32);
        __m512i counter = _mm512_or_si512(_mm512_set1_epi64((long long)base), _mm512_slli_epi64(step, 12));
        __m512i z = _mm512_mullo_epi64(_mm512_xor_si512(counter, k1), k2);
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
        z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
        __m512d uniform = _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(z, 11)), half), scale);
        _mm512_storeu_si512((void *)(bits + s), z);
        _mm512_storeu_pd(u + s, _mm512_sub_pd(_mm512_mul_pd(two, uniform), one));
    }
    uint32_t rejected = 0;
    for (int s = 0; s < count; s++) {
        const int i = (int)(bits[s] & 0x7f);
        const double v = u[s];
        if (__builtin_fabs(v) < ratio[i]) out[(long)s * stride] = v * x[i];
        else rejected |= 1u << s;
    }
    return rejected;
}

#else

int wb_avx512_available(void) { return 0; }

uint32_t wb_fast_normals(uint64_t key1, uint64_t key2, uint64_t base, uint64_t first_step, int count,
                         const double *x, const double *ratio, double *out, long stride) {
    (void)key1; (void)key2; (void)base; (void)first_step; (void)x; (void)ratio; (void)out; (void)stride;
    return count >= 32 ? 0xffffffffu : ((1u << count) - 1);
}

#endif
