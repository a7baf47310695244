// Counts heap allocations by interposing the allocator entry points and
// forwarding to the next definition (glibc's). Benchmark-only.
#define _GNU_SOURCE
#include "bench_malloc_counter.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

static atomic_ulong bench_count;

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void (*next_free)(void *);

// dlsym may itself call calloc before the real one is known: serve those
// few early requests from a static arena (never freed).
static _Alignas(16) unsigned char bench_bootstrap[8192];
static size_t bench_bootstrap_used;
static _Thread_local int bench_resolving;

static void *bench_bootstrap_alloc(size_t size) {
    size = (size + 15) & ~(size_t)15;
    if (bench_bootstrap_used + size > sizeof bench_bootstrap) return NULL;
    void *result = bench_bootstrap + bench_bootstrap_used;
    bench_bootstrap_used += size;
    return result;
}

static int bench_in_bootstrap(const void *pointer) {
    const unsigned char *bytes = pointer;
    return bytes >= bench_bootstrap && bytes < bench_bootstrap + sizeof bench_bootstrap;
}

static void bench_resolve(void) {
    if (next_malloc != NULL || bench_resolving) return;
    bench_resolving = 1;
    next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    next_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    next_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    next_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    bench_resolving = 0;
}

unsigned long bench_malloc_count(void) { return atomic_load(&bench_count); }

void *malloc(size_t size) {
    bench_resolve();
    if (next_malloc == NULL) return bench_bootstrap_alloc(size);
    atomic_fetch_add_explicit(&bench_count, 1, memory_order_relaxed);
    return next_malloc(size);
}

void *calloc(size_t count, size_t size) {
    bench_resolve();
    if (next_calloc == NULL) return bench_bootstrap_alloc(count * size);  // static arena is zeroed
    atomic_fetch_add_explicit(&bench_count, 1, memory_order_relaxed);
    return next_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    bench_resolve();
    if (next_realloc == NULL || next_malloc == NULL) {
        void *moved = bench_bootstrap_alloc(size);
        if (moved != NULL && pointer != NULL) memmove(moved, pointer, size);  // bootstrap only: tiny blocks
        return moved;
    }
    atomic_fetch_add_explicit(&bench_count, 1, memory_order_relaxed);
    if (bench_in_bootstrap(pointer)) {
        size_t available = (size_t)(bench_bootstrap + sizeof bench_bootstrap - (unsigned char *)pointer);
        void *moved = next_malloc(size);
        if (moved != NULL) memcpy(moved, pointer, size < available ? size : available);
        return moved;
    }
    return next_realloc(pointer, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    bench_resolve();
    atomic_fetch_add_explicit(&bench_count, 1, memory_order_relaxed);
    return next_posix_memalign(result, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    bench_resolve();
    atomic_fetch_add_explicit(&bench_count, 1, memory_order_relaxed);
    return next_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    bench_resolve();
    atomic_fetch_add_explicit(&bench_count, 1, memory_order_relaxed);
    return next_memalign(alignment, size);
}

void free(void *pointer) {
    // Blocks from the bootstrap arena, or freed before glibc's free is known, are leaked.
    if (pointer == NULL || bench_in_bootstrap(pointer) || next_free == NULL) return;
    next_free(pointer);
}
