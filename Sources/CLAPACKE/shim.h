// LAPACK's C interface (Debian: liblapacke-dev), for eigenvalues of network Jacobians.
#ifndef WHOLEBRAIN_CLAPACKE_SHIM_H
#define WHOLEBRAIN_CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
