// FFTW 3 double precision. <complex.h> is deliberately not included first, so that
// fftw_complex arrives in Swift as a pair of Doubles.
#ifndef WHOLEBRAIN_CFFTW_SHIM_H
#define WHOLEBRAIN_CFFTW_SHIM_H
#include <fftw3.h>
static inline const char *wb_fftw_version(void) { return fftw_version; }
#endif
