// Lane-parallel exp, expm1 and log for the C kernels: VectorMath.exp, expm1 and log,
// operation for operation (eight lanes per AVX-512 vector), so they give the Swift bits.
// Include only from files compiled with contraction off.
#ifndef WHOLEBRAIN_VECTOR_MATH_H
#define WHOLEBRAIN_VECTOR_MATH_H
#if defined(__x86_64__)
#include <immintrin.h>

#define WB_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl"), always_inline)) static inline

WB_AVX512 __m512d splat(double v) { return _mm512_set1_pd(v); }

WB_AVX512 __m512d select_where(__mmask8 m, __m512d otherwise, __m512d value) {
    return _mm512_mask_blend_pd(m, otherwise, value);
}

// VectorMath.exp: x = (16 k + j) ln2/16 + r, degree-7 Taylor polynomial, 2^(j/16) from the
// table (one two-register permute: the index's low 4 bits), 2^k from the bits.
WB_AVX512 __m512d wb_exp(__m512d x) {
    static const double table[16] = {
        0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
        0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
        0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
        0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0 };
    const __m512d lo = splat(-708), hi = splat(709), shifter = splat(6755399441055744.0);
    __m512d xc = select_where(_mm512_cmp_pd_mask(x, lo, _CMP_LT_OQ), x, lo);
    xc = select_where(_mm512_cmp_pd_mask(xc, hi, _CMP_GT_OQ), xc, hi);
    const __m512d shifted = _mm512_add_pd(_mm512_mul_pd(xc, splat(16 * 1.44269504088896338700e+00)), shifter);
    const __m512d n = _mm512_sub_pd(shifted, shifter);
    const __m512d r = _mm512_sub_pd(_mm512_sub_pd(xc, _mm512_mul_pd(n, splat(6.93147180369123816490e-01 / 16))),
                                    _mm512_mul_pd(n, splat(1.90821492927058770002e-10 / 16)));
    __m512d p = splat(1.0 / 5040.0);
    p = _mm512_fmadd_pd(p, r, splat(1.0 / 720.0));
    p = _mm512_fmadd_pd(p, r, splat(1.0 / 120.0));
    p = _mm512_fmadd_pd(p, r, splat(1.0 / 24.0));
    p = _mm512_fmadd_pd(p, r, splat(1.0 / 6.0));
    p = _mm512_fmadd_pd(p, r, splat(0.5));
    p = _mm512_fmadd_pd(p, r, splat(1.0));
    p = _mm512_fmadd_pd(p, r, splat(1.0));
    const __m512i n_int = _mm512_sub_epi64(_mm512_castpd_si512(shifted), _mm512_set1_epi64(0x4338000000000000LL));
    const __m512d tj = _mm512_permutex2var_pd(_mm512_loadu_pd(table), n_int, _mm512_loadu_pd(table + 8));
    const __m512i scale_bits = _mm512_slli_epi64(_mm512_add_epi64(_mm512_srai_epi64(n_int, 4), _mm512_set1_epi64(1023)), 52);
    return _mm512_mul_pd(_mm512_mul_pd(p, tj), _mm512_castsi512_pd(scale_bits));
}

// VectorMath.expm1: exp(x) - 1, or the series to x^13/13! where |x| < ln2/2.
WB_AVX512 __m512d wb_expm1(__m512d x) {
    const __m512d half = splat(0.34657359027997264);
    const __mmask8 small = _mm512_cmp_pd_mask(x, half, _CMP_LT_OQ) & _mm512_cmp_pd_mask(x, _mm512_xor_pd(half, splat(-0.0)), _CMP_GT_OQ);
    const __m512d large = _mm512_sub_pd(wb_exp(x), splat(1.0));
    if (!small) return large;
    __m512d p = splat(1.0 / 6227020800.0);
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 479001600.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 39916800.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 3628800.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 362880.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 40320.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 5040.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 720.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 120.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 24.0));
    p = _mm512_fmadd_pd(p, x, splat(1.0 / 6.0));
    p = _mm512_fmadd_pd(p, x, splat(0.5));
    const __m512d series = _mm512_add_pd(_mm512_mul_pd(_mm512_mul_pd(p, x), x), x);
    return select_where(small, large, series);
}

// VectorMath.log: x = m 2^e, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m-1)/(m+1)); NaN for
// x <= 0, NaN or infinity.
WB_AVX512 __m512d wb_log(__m512d x) {
    const __m512i bits = _mm512_castpd_si512(x);
    const __m512i ei = _mm512_sub_epi64(_mm512_and_si512(_mm512_srli_epi64(bits, 52), _mm512_set1_epi64(0x7ff)), _mm512_set1_epi64(1023));
    __m512d e = _mm512_cvtepi64_pd(ei);
    __m512d m = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0x000fffffffffffffLL)),
                                                    _mm512_set1_epi64(0x3ff0000000000000LL)));
    const __mmask8 big = _mm512_cmp_pd_mask(m, splat(1.4142135623730951), _CMP_GT_OQ);
    m = select_where(big, m, _mm512_mul_pd(m, splat(0.5)));
    e = select_where(big, e, _mm512_add_pd(e, splat(1.0)));
    const __m512d s = _mm512_div_pd(_mm512_sub_pd(m, splat(1.0)), _mm512_add_pd(m, splat(1.0)));
    const __m512d s2 = _mm512_mul_pd(s, s);
    __m512d p = splat(1.0 / 21);
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 19));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 17));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 15));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 13));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 11));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 9));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 7));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 5));
    p = _mm512_fmadd_pd(p, s2, splat(1.0 / 3));
    const __m512d two_s = _mm512_mul_pd(splat(2.0), s);
    const __m512d logm = _mm512_add_pd(two_s, _mm512_mul_pd(_mm512_mul_pd(two_s, s2), p));
    const __m512d result = _mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(e, splat(6.93147180369123816490e-01)), logm),
                                         _mm512_mul_pd(e, splat(1.90821492927058770002e-10)));
    const __mmask8 invalid = (__mmask8)~_mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GT_OQ)
                           | _mm512_cmp_pd_mask(x, splat(__builtin_inf()), _CMP_EQ_OQ);
    return select_where(invalid, result, splat(__builtin_nan("")));
}

#endif
#endif
