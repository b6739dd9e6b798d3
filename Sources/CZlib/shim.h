// zlib, for compressed MATLAB v5 elements and deflated zip members (.npz, TVB zips).
#ifndef WHOLEBRAIN_CZLIB_SHIM_H
#define WHOLEBRAIN_CZLIB_SHIM_H
#include <zlib.h>
static inline int wb_inflate_init2(z_stream *s, int windowBits) {
    return inflateInit2(s, windowBits);
}
#endif
