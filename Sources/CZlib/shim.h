/* zlib's init functions are macros (they pass the library version and the
 * stream size); Swift imports neither macros nor their expansion, so these
 * static inline wrappers make them callable. Prefixed, local to each image. */
#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 with windowBits 15 + 16: a gzip (RFC 1952) stream. */
static inline int CZlib_deflateInitGzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/* inflateInit2 with windowBits 15 + 32: gzip or zlib, detected from the header. */
static inline int CZlib_inflateInitAuto(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
#endif
