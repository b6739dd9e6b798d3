// AVX-512 kernel for the Euler-Maruyama step of the reduced Wong-Wang model, eight nodes per
// vector. Every operation mirrors the Swift code it replaces (`ReducedWongWang.drift`,
// `VectorMath.exp`/`expm1`, `NodeBlockIntegrator.eulerStep`) in the same order, with
// contraction off and fused multiply-adds only where the Swift code has them, so both give
// the same bits (tested). Lanes past `count` (a multiple of 4) are masked off.
#include "wholebrain_kernels.h"

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include "vector_math.h"

// ReducedWongWang.transfer: y / -expm1(-d y), y = a x - b; 1/d where y = 0.
WB_AVX512 __m512d wb_transfer(__m512d x, double a, double b, double d) {
    const __m512d y = _mm512_sub_pd(_mm512_mul_pd(splat(a), x), splat(b));
    const __m512d em1 = wb_expm1(_mm512_mul_pd(splat(-d), y));
    const __m512d h = _mm512_div_pd(y, _mm512_xor_pd(em1, splat(-0.0)));
    return select_where(_mm512_cmp_pd_mask(y, _mm512_setzero_pd(), _CMP_EQ_OQ), h, splat(1.0 / d));
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
void wb_rww_euler(const wb_rww_constants *k, long count, double dt, double scale,
                  double *s_e, double *s_i, const double *coupling, const double *j_i, const double *w_plus, const double *i_0,
                  const double *input_e, const double *input_i, const double *noise_e, const double *noise_i,
                  double *rate_e, double *rate_i, double *check, double *z_sum, int z_from_rate, double *signal,
                  double *mean_states, double *mean_rates) {
    const __m512d one = splat(1.0), zero = _mm512_setzero_pd();
    for (long q = 0; q < count; q += 8) {
        const __mmask8 m = count - q >= 8 ? 0xff : 0x0f;
        const __m512d e0 = _mm512_maskz_loadu_pd(m, s_e + q), i0 = _mm512_maskz_loadu_pd(m, s_i + q);
        const __m512d c = _mm512_maskz_loadu_pd(m, coupling + q), ji = _mm512_maskz_loadu_pd(m, j_i + q);
        // x_E = W_E I_0 + I_ext + w_+ J_NMDA S_E + G J_NMDA c - J_i S_I; x_I = W_I I_0 + J_NMDA S_E - S_I,
        // with w_+ and I_0 per node (`ReducedWongWang.terms`).
        __m512d recurrence = splat(k->recurrence), excitatory_drive = splat(k->excitatory_drive), inhibitory_drive = splat(k->inhibitory_drive);
        if (w_plus) {
            const __m512d input0 = _mm512_maskz_loadu_pd(m, i_0 + q);
            recurrence = _mm512_mul_pd(_mm512_maskz_loadu_pd(m, w_plus + q), splat(k->j_nmda));
            excitatory_drive = _mm512_add_pd(_mm512_mul_pd(splat(k->w_e), input0), splat(k->i_ext));
            inhibitory_drive = _mm512_mul_pd(splat(k->w_i), input0);
        }
        const __m512d x_e = _mm512_sub_pd(_mm512_add_pd(_mm512_add_pd(excitatory_drive, _mm512_mul_pd(recurrence, e0)),
                                                        _mm512_mul_pd(splat(k->global_gain), c)),
                                          _mm512_mul_pd(ji, i0));
        const __m512d x_i = _mm512_sub_pd(_mm512_add_pd(inhibitory_drive, _mm512_mul_pd(splat(k->j_nmda), e0)), i0);
        const __m512d r_e = wb_transfer(x_e, k->a_e, k->b_e, k->d_e);
        const __m512d r_i = wb_transfer(x_i, k->a_i, k->b_i, k->d_i);
        const __m512d d_e = _mm512_add_pd(_mm512_sub_pd(_mm512_mul_pd(_mm512_sub_pd(one, e0), _mm512_mul_pd(splat(k->gamma_e), r_e)),
                                                        _mm512_mul_pd(e0, splat(k->inv_tau_e))),
                                          _mm512_maskz_loadu_pd(m, input_e + q));
        const __m512d d_i = _mm512_add_pd(_mm512_sub_pd(_mm512_mul_pd(splat(k->gamma_i), r_i), _mm512_mul_pd(i0, splat(k->inv_tau_i))),
                                          _mm512_maskz_loadu_pd(m, input_i + q));
        __m512d next_e = _mm512_add_pd(_mm512_add_pd(e0, _mm512_mul_pd(splat(dt), d_e)),
                                       _mm512_mul_pd(splat(scale), _mm512_maskz_loadu_pd(m, noise_e + q)));
        __m512d next_i = _mm512_add_pd(_mm512_add_pd(i0, _mm512_mul_pd(splat(dt), d_i)),
                                       _mm512_mul_pd(splat(scale), _mm512_maskz_loadu_pd(m, noise_i + q)));
        const __m512d sum = _mm512_add_pd(_mm512_add_pd(_mm512_maskz_loadu_pd(m, check + q), next_e), next_i);
        next_e = select_where(_mm512_cmp_pd_mask(next_e, zero, _CMP_LT_OQ), next_e, zero);
        next_e = select_where(_mm512_cmp_pd_mask(next_e, one, _CMP_GT_OQ), next_e, one);
        next_i = select_where(_mm512_cmp_pd_mask(next_i, zero, _CMP_LT_OQ), next_i, zero);
        next_i = select_where(_mm512_cmp_pd_mask(next_i, one, _CMP_GT_OQ), next_i, one);
        const __m512d z = z_from_rate ? r_e : next_e;
        _mm512_mask_storeu_pd(check + q, m, sum);
        _mm512_mask_storeu_pd(z_sum + q, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, z_sum + q), z));
        _mm512_mask_storeu_pd(s_e + q, m, next_e);
        _mm512_mask_storeu_pd(s_i + q, m, next_i);
        _mm512_mask_storeu_pd(signal + q, m, next_e);
        _mm512_mask_storeu_pd(rate_e + q, m, r_e);
        _mm512_mask_storeu_pd(rate_i + q, m, r_i);
        if (mean_states) {
            double *me = mean_states + q, *mi = mean_states + count + q;
            _mm512_mask_storeu_pd(me, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, me), next_e));
            _mm512_mask_storeu_pd(mi, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, mi), next_i));
        }
        if (mean_rates) {
            double *re = mean_rates + q, *ri = mean_rates + count + q;
            _mm512_mask_storeu_pd(re, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, re), r_e));
            _mm512_mask_storeu_pd(ri, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, ri), r_i));
        }
    }
}

#else

void wb_rww_euler(const wb_rww_constants *k, long count, double dt, double scale,
                  double *s_e, double *s_i, const double *coupling, const double *j_i, const double *w_plus, const double *i_0,
                  const double *input_e, const double *input_i, const double *noise_e, const double *noise_i,
                  double *rate_e, double *rate_i, double *check, double *z_sum, int z_from_rate, double *signal,
                  double *mean_states, double *mean_rates) {
    // Never called: wb_avx512_available() is 0 here.
    (void)k; (void)count; (void)dt; (void)scale; (void)s_e; (void)s_i; (void)coupling; (void)j_i; (void)w_plus; (void)i_0; (void)input_e;
    (void)input_i; (void)noise_e; (void)noise_i; (void)rate_e; (void)rate_i; (void)check; (void)z_sum; (void)z_from_rate;
    (void)signal; (void)mean_states; (void)mean_rates;
}

#endif
