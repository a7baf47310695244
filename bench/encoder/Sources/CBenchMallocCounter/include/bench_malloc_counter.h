#ifndef BENCH_MALLOC_COUNTER_H
#define BENCH_MALLOC_COUNTER_H

/// Number of heap allocations (malloc, calloc, realloc, posix_memalign,
/// aligned_alloc, memalign) made by the whole process so far. The library
/// interposes those functions; it exists only in this benchmark.
unsigned long bench_malloc_count(void);

#endif
