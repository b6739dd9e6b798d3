// AVX-512 kernel for WholeBrain's counter-based ziggurat normals (`CounterNoise`), eight nodes
// per vector. Floating-point contraction is off: every multiply and add is rounded on its own,
// as in the Swift reference (`CounterNoise.normal`), so both give the same bits.
#include "wholebrain_kernels.h"

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include "vector_math.h"

int wb_avx512_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

// mix((counter ^ key1) * key2) with the SplitMix64 finaliser.
WB_AVX512 __m512i wb_hash(__m512i counter, __m512i k1, __m512i k2) {
    const __m512i m1 = _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL);
    const __m512i m2 = _mm512_set1_epi64((long long)0x94d049bb133111ebULL);
    __m512i z = _mm512_mullo_epi64(_mm512_xor_si512(counter, k1), k2);
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// CounterNoise.open01: (top 53 bits + 1/2) 2^-53.
WB_AVX512 __m512d wb_open01(__m512i bits) {
    return _mm512_mul_pd(_mm512_add_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(bits, 11)), splat(0.5)), splat(0x1p-53));
}

WB_AVX512 __m512d wb_signed_uniform(__m512i bits) { return _mm512_sub_pd(_mm512_mul_pd(splat(2.0), wb_open01(bits)), splat(1.0)); }

typedef struct {
    __m512i k1, k2;
    const double *x, *ratio, *density;
    double r;
    double *out;
} wb_ziggurat;

// CounterNoise.slowNormal for the lanes of `active`: candidate bits `b` of counters `base`
// (attempt bits zero) with `attempt` draws used, results to out[at]. Lanes go round by round
// (inner rectangle, tail, wedge) so the wedge's exp is one vector for eight values.
WB_AVX512 void wb_slow_normals(const wb_ziggurat *z, __mmask8 active, __m512i base, __m512i b, __m512i at) {
    const __m512i layer_bits = _mm512_set1_epi64(0x7f), one = _mm512_set1_epi64(1);
    __m512i attempt = _mm512_setzero_si512();
    while (active) {
        // 255 attempts: the chance of needing them all is below 1e-400.
        const __mmask8 spent = _mm512_mask_cmp_epu64_mask(active, attempt, _mm512_set1_epi64(255), _MM_CMPINT_NLT);
        if (spent) { _mm512_mask_i64scatter_pd(z->out, spent, at, _mm512_setzero_pd(), 8); active &= (__mmask8)~spent; }
        const __m512i i = _mm512_and_si512(b, layer_bits);
        const __m512d u = wb_signed_uniform(b);
        const __m512d xi = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), active, i, z->x, 8);
        const __m512d ratio = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), active, i, z->ratio, 8);
        const __mmask8 inner = _mm512_mask_cmp_pd_mask(active, _mm512_abs_pd(u), ratio, _CMP_LT_OQ);
        if (inner) _mm512_mask_i64scatter_pd(z->out, inner, at, _mm512_mul_pd(u, xi), 8);
        active &= (__mmask8)~inner;
        // Tail beyond R (Marsaglia 1964), lane by lane: about one value in 1700.
        __mmask8 tail = _mm512_mask_cmpeq_epi64_mask(active, i, _mm512_setzero_si512());
        active &= (__mmask8)~tail;
        uint64_t lane_base[8], lane_attempt[8];
        double lane_u[8];
        long lane_at[8];
        if (tail) {
            _mm512_storeu_si512((void *)lane_base, base);
            _mm512_storeu_si512((void *)lane_attempt, attempt);
            _mm512_storeu_pd(lane_u, u);
            _mm512_storeu_si512((void *)lane_at, at);
        }
        while (tail) {
            const int l = __builtin_ctz(tail);
            tail &= tail - 1;
            uint64_t a = lane_attempt[l];
            double value = 0;
            while (a < 253) {
                a += 1;
                const double x = wb_log(wb_open01(wb_hash(_mm512_set1_epi64((long long)(lane_base[l] | a)), z->k1, z->k2)))[0] / z->r;
                a += 1;
                const double y = wb_log(wb_open01(wb_hash(_mm512_set1_epi64((long long)(lane_base[l] | a)), z->k1, z->k2)))[0];
                if (-2 * y >= x * x) { value = lane_u[l] < 0 ? x - z->r : z->r - x; break; }
            }
            z->out[lane_at[l]] = value;
        }
        if (!active) break;
        // Wedge: accept if a uniform point between the layer's edges lies under the density.
        const __m512d x = _mm512_mul_pd(u, xi);
        attempt = _mm512_add_epi64(attempt, one);
        const __m512d w = wb_open01(wb_hash(_mm512_or_si512(base, attempt), z->k1, z->k2));
        const __m512d d0 = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), active, i, z->density, 8);
        const __m512d d1 = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), active, _mm512_add_epi64(i, one), z->density, 8);
        const __m512d under = wb_exp(_mm512_mul_pd(_mm512_mul_pd(splat(-0.5), x), x));
        const __mmask8 accept = _mm512_mask_cmp_pd_mask(active, _mm512_add_pd(d1, _mm512_mul_pd(w, _mm512_sub_pd(d0, d1))), under, _CMP_LT_OQ);
        if (accept) _mm512_mask_i64scatter_pd(z->out, accept, at, x, 8);
        active &= (__mmask8)~accept;
        attempt = _mm512_add_epi64(attempt, one);
        b = wb_hash(_mm512_or_si512(base, attempt), z->k1, z->k2);
    }
}

// Lanes that left the fast path, eight at a time through wb_slow_normals.
typedef struct {
    uint64_t base[8];
    long at[8];
    int count;
} wb_pending;

WB_AVX512 void wb_pend(const wb_ziggurat *z, wb_pending *p, uint64_t base, long at) {
    p->base[p->count] = base;
    p->at[p->count] = at;
    if (++p->count < 8) return;
    const __m512i b = _mm512_loadu_si512((const void *)p->base);
    wb_slow_normals(z, 0xff, b, wb_hash(b, z->k1, z->k2), _mm512_loadu_si512((const void *)p->at));
    p->count = 0;
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
void wb_ziggurat_normals(uint64_t key1, uint64_t key2, long node_lo, long nodes, uint64_t variable, uint64_t first_step,
                         long steps, const double *x, const double *ratio, const double *density, double r,
                         double *out, long step_stride, long node_stride) {
    // At most 2048 vectors of nodes per pass (the mask buffer below).
    if (nodes > 2048 * 8) {
        for (long k = 0; k < nodes; k += 2048 * 8) {
            wb_ziggurat_normals(key1, key2, node_lo + k, nodes - k < 2048 * 8 ? nodes - k : 2048 * 8, variable, first_step, steps,
                                x, ratio, density, r, out + k * node_stride, step_stride, node_stride);
        }
        return;
    }
    const wb_ziggurat z = { _mm512_set1_epi64((long long)key1), _mm512_set1_epi64((long long)key2), x, ratio, density, r, out };
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i layer_bits = _mm512_set1_epi64(0x7f);
    const long vectors = (nodes + 7) / 8;
    const __mmask8 last = (__mmask8)(0xff >> (vectors * 8 - nodes));
    // Pass 1 writes every lane's fast-path value and keeps a mask of the lanes that missed it
    // (no branch on the mask: about one vector in five has such a lane); pass 2 sends those
    // through the slow path, which overwrites them. Steps in chunks whose masks fit below.
    uint8_t missed[2048];
    const long chunk = 2048 / vectors;
    wb_pending pending = { .count = 0 };
    for (long s0 = 0; s0 < steps; s0 += chunk) {
        const long s1 = steps - s0 < chunk ? steps : s0 + chunk;
        uint8_t *mask = missed;
        for (long s = s0; s < s1; s++) {
            const uint64_t step_bits = ((first_step + (uint64_t)s) & 0xffffffffULL) << 12 | variable << 8;
            double *row = out + s * step_stride;
            for (long v = 0; v < vectors; v++) {
                const __mmask8 valid = v + 1 < vectors ? 0xff : last;
                const __m512i node = _mm512_add_epi64(_mm512_set1_epi64(node_lo + 8 * v), lane);
                const __m512i b = wb_hash(_mm512_or_si512(_mm512_slli_epi64(node, 44), _mm512_set1_epi64((long long)step_bits)), z.k1, z.k2);
                const __m512i i = _mm512_and_si512(b, layer_bits);
                const __m512d u = wb_signed_uniform(b);
                const __mmask8 inner = _mm512_cmp_pd_mask(_mm512_abs_pd(u), _mm512_i64gather_pd(i, ratio, 8), _CMP_LT_OQ);
                const __m512d value = _mm512_mul_pd(u, _mm512_i64gather_pd(i, x, 8));
                double *at = row + 8 * v * node_stride;
                if (node_stride == 1) {
                    if (valid == 0xff) _mm512_storeu_pd(at, value); else _mm512_mask_storeu_pd(at, valid, value);
                } else {
                    double lanes[8];
                    _mm512_storeu_pd(lanes, value);
                    const int count = valid == 0xff ? 8 : __builtin_popcount(valid);
                    for (int l = 0; l < count; l++) at[l * node_stride] = lanes[l];
                }
                *mask++ = valid & (__mmask8)~inner;
            }
        }
        mask = missed;
        for (long s = s0; s < s1; s++) {
            const uint64_t step_bits = ((first_step + (uint64_t)s) & 0xffffffffULL) << 12 | variable << 8;
            for (long v = 0; v < vectors; v++) {
                for (unsigned m = *mask++; m; m &= m - 1) {
                    const long node = 8 * v + __builtin_ctz(m);
                    wb_pend(&z, &pending, (uint64_t)(node_lo + node) << 44 | step_bits, s * step_stride + node * node_stride);
                }
            }
        }
    }
    if (pending.count > 0) {
        const __mmask8 m = (__mmask8)((1u << pending.count) - 1);
        const __m512i b = _mm512_maskz_loadu_epi64(m, pending.base);
        wb_slow_normals(&z, m, b, wb_hash(b, z.k1, z.k2), _mm512_maskz_loadu_epi64(m, pending.at));
    }
}

#else

int wb_avx512_available(void) { return 0; }

void wb_ziggurat_normals(uint64_t key1, uint64_t key2, long node_lo, long nodes, uint64_t variable, uint64_t first_step,
                         long steps, const double *x, const double *ratio, const double *density, double r,
                         double *out, long step_stride, long node_stride) {
    // Never called: wb_avx512_available() is 0 here.
    (void)key1; (void)key2; (void)node_lo; (void)nodes; (void)variable; (void)first_step; (void)steps; (void)x;
    (void)ratio; (void)density; (void)r; (void)out; (void)step_stride; (void)node_stride;
}

#endif
