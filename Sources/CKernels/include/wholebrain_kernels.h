#ifndef WHOLEBRAIN_KERNELS_H
#define WHOLEBRAIN_KERNELS_H
#include <stdint.h>

/// Whether this CPU can run the kernels below (AVX-512 F, DQ and VL); checked at run time,
/// so one binary runs everywhere and uses the vector kernels only where they exist.
int wb_avx512_available(void);

/// `CounterNoise.normal` for nodes node_lo ..< node_lo + nodes and steps first_step ..<
/// first_step + steps of one variable, into out[s * step_stride + i * node_stride] (node
/// node_lo + i). Eight nodes per AVX-512 vector: counters `node << 44 | (step & 0xffffffff) << 12
/// | variable << 8 | attempt`, hash mix((counter ^ key1) * key2) with the SplitMix64 finaliser,
/// u = 2 (top 53 bits + 1/2) 2^-53 - 1, layer from the low 7 bits, accepted if |u| <
/// ratio[layer] with value u x[layer]; the lanes that are not are marked without a branch and
/// then taken through the slow path eight at a time (wedge test with the next draw, tail beyond
/// r, new candidates), which overwrites them.
/// Same operations as the Swift code, so the same bits.
void wb_ziggurat_normals(uint64_t key1, uint64_t key2, long node_lo, long nodes, uint64_t variable, uint64_t first_step,
                         long steps, const double *x, const double *ratio, const double *density, double r,
                         double *out, long step_stride, long node_stride);

/// The constants of the reduced Wong-Wang drift as `ReducedWongWang` combines them:
/// W_E I_0 + I_ext, w_+ J_NMDA and W_I I_0 for uniform w_+ and I_0, W_E, I_ext, G J_NMDA, W_I,
/// J_NMDA, the transfer functions' a, b, d, gamma_E, gamma_I, 1/tau_E, 1/tau_I.
typedef struct {
    double excitatory_drive, recurrence, inhibitory_drive;
    double w_e, i_ext, global_gain, w_i, j_nmda;
    double a_e, b_e, d_e, a_i, b_i, d_i;
    double gamma_e, gamma_i, inv_tau_e, inv_tau_i;
} wb_rww_constants;

/// One Euler-Maruyama step of the reduced Wong-Wang model (`ReducedWongWang.drift` and
/// `NodeBlockIntegrator.eulerStep`, operation for operation, eight nodes per vector) for
/// `count` nodes (a multiple of 4): S <- clamp(S + dt f(S) + scale xi, 0, 1) for S_E and S_I,
/// with the network input `coupling`, J_i per node, w_+ and I_0 per node (or, where `w_plus` is
/// null, the constants' uniform terms) and additive inputs `input_e/i`; writes the
/// rates H_E and H_I, adds the unclamped new states to `check` (E then I), adds the BOLD input
/// (new S_E, or H_E if `z_from_rate`) to `z_sum`, and writes the new S_E to `signal`. Unless
/// null, `mean_states` (S_E then S_I, `count` each) and `mean_rates` (H_E then H_I) get the new
/// states and the rates added.
void wb_rww_euler(const wb_rww_constants *k, long count, double dt, double scale,
                  double *s_e, double *s_i, const double *coupling, const double *j_i, const double *w_plus, const double *i_0,
                  const double *input_e, const double *input_i, const double *noise_e, const double *noise_i,
                  double *rate_e, double *rate_i, double *check, double *z_sum, int z_from_rate, double *signal,
                  double *mean_states, double *mean_rates);

#endif
