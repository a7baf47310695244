/*
 * fixture_plugin.c -- test fixture: a configurable, deliberately broken (or
 * healthy) rdt4nn plugin.  The tests compile it with -D switches:
 *
 *   FIXTURE_ID="..."            plugin id (default "test.fixture")
 *   FIXTURE_MAGIC=0x...         wrong magic
 *   FIXTURE_ABI_MAJOR=n         another ABI major
 *   FIXTURE_ENTRY_SIZE=n        entry struct_size (too small)
 *   FIXTURE_DESC_SIZE=n         descriptor struct_size (too small)
 *   FIXTURE_NULL_ENTRY          entry returns NULL
 *   FIXTURE_TWO_PLUGINS         a factory with a collector and a sink
 *   FIXTURE_CRASH_IN_COLLECT    NULL dereference in the 2nd collect
 *   FIXTURE_HANG_IN_COLLECT     collect never returns
 *   FIXTURE_EMIT_AFTER_STOP     a thread started in `start` emits after `stop`
 *   FIXTURE_NO_SET_ERROR        collect returns RETRY without set_error
 *   FIXTURE_UNDECLARED_FIELD    emits a field missing from the metrics schema
 *   FIXTURE_OVERLAP_PROBE       collect takes 2 ms and fails (FATAL, "overlap") when
 *                               another instance's collect runs at the same time
 *   FIXTURE_SINGLE_THREADED     declares RDT4NN_CAP_SINGLE_THREADED
 *   -DRDT4NN_EXPORT=            (with -fvisibility=hidden) no entry symbol
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rdt4nn_plugin.h"

#ifndef FIXTURE_ID
#define FIXTURE_ID "test.fixture"
#endif
#ifndef FIXTURE_MAGIC
#define FIXTURE_MAGIC RDT4NN_MAGIC
#endif
#ifndef FIXTURE_ABI_MAJOR
#define FIXTURE_ABI_MAJOR RDT4NN_ABI_MAJOR
#endif
#ifndef FIXTURE_ENTRY_SIZE
#define FIXTURE_ENTRY_SIZE sizeof(rdt4nn_plugin_entry_t)
#endif
#ifndef FIXTURE_DESC_SIZE
#define FIXTURE_DESC_SIZE sizeof(rdt4nn_plugin_desc)
#endif

typedef struct fixture {
    const rdt4nn_host_api *host;
    rdt4nn_ctx *ctx;
    int collections;
    pthread_t thread;
    int thread_started;
} fixture;

static rdt4nn_status fx_create(const rdt4nn_host_api *host, rdt4nn_ctx *ctx, void **out) {
    fixture *f = calloc(1, sizeof *f);
    if (!f) return RDT4NN_E_FATAL;
    f->host = host;
    f->ctx = ctx;
    *out = f;
    return RDT4NN_OK;
}

static void emit_value(fixture *f, rdt4nn_ctx *ctx, double value) {
    rdt4nn_field fields[2] = {
        {.key = "value", .type = RDT4NN_FIELD_F64, .v.f64 = value},
        {.key = "undeclared", .type = RDT4NN_FIELD_I64, .v.i64 = 1},
    };
    rdt4nn_tag tag = {.key = "source", .value = "fixture"};
    rdt4nn_sample sample = {.struct_size = sizeof sample, .n_tags = 1, .n_fields = 1,
                            .measurement = "fixture", .tags = &tag, .fields = fields};
#ifdef FIXTURE_UNDECLARED_FIELD
    sample.n_fields = 2;
#endif
    rdt4nn_batch batch = {.struct_size = sizeof batch, .count = 1, .samples = &sample};
    f->host->emit(ctx, &batch);
}

#ifdef FIXTURE_EMIT_AFTER_STOP
static void *late_emitter(void *raw) {
    fixture *f = raw;
    usleep(150000); /* wakes after the check called stop */
    emit_value(f, f->ctx, 42);
    return NULL;
}
#endif

static rdt4nn_status fx_start(rdt4nn_ctx *ctx, void *raw) {
    (void)ctx;
    fixture *f = raw;
#ifdef FIXTURE_EMIT_AFTER_STOP
    if (!f->thread_started) {
        f->thread_started = pthread_create(&f->thread, NULL, late_emitter, f) == 0;
    }
#else
    (void)f;
#endif
    return RDT4NN_OK;
}

#ifdef FIXTURE_OVERLAP_PROBE
static atomic_int calls_running;
#endif

static rdt4nn_status fx_collect(rdt4nn_ctx *ctx, void *raw, const rdt4nn_collect_args *args) {
    (void)args;
    fixture *f = raw;
    f->collections++;
#ifdef FIXTURE_OVERLAP_PROBE
    int others = atomic_fetch_add(&calls_running, 1);
    usleep(2000);
    atomic_fetch_sub(&calls_running, 1);
    if (others > 0) {
        f->host->set_error(ctx, "overlap: another instance's collect ran at the same time");
        return RDT4NN_E_FATAL;
    }
#endif
#ifdef FIXTURE_CRASH_IN_COLLECT
    if (f->collections == 2) {
        volatile int *nowhere = NULL;
        *nowhere = 1;
    }
#endif
#ifdef FIXTURE_HANG_IN_COLLECT
    for (;;) pause();
#endif
#ifdef FIXTURE_NO_SET_ERROR
    return RDT4NN_E_RETRY;
#endif
    emit_value(f, ctx, f->collections);
    return RDT4NN_OK;
}

/* Deliberately does not join the late emitter in FIXTURE_EMIT_AFTER_STOP. */
static void fx_stop(rdt4nn_ctx *ctx, void *raw) { (void)ctx; (void)raw; }

static void fx_destroy(void *raw) {
#ifdef FIXTURE_EMIT_AFTER_STOP
    fixture *f = raw;
    if (f && f->thread_started) {
        usleep(300000); /* let the emitter finish before the memory goes */
        pthread_detach(f->thread);
    }
#endif
    free(raw);
}

static const rdt4nn_collector_vtable fx_collector = {
    .struct_size = sizeof(rdt4nn_collector_vtable),
#ifdef FIXTURE_SINGLE_THREADED
    .caps = RDT4NN_CAP_SINGLE_THREADED,
#endif
    .create = fx_create, .start = fx_start, .collect = fx_collect,
    .stop = fx_stop, .destroy = fx_destroy,
};

static const rdt4nn_plugin_desc fx_desc = {
    .struct_size = FIXTURE_DESC_SIZE,
    .kind = RDT4NN_KIND_COLLECTOR,
    .id = FIXTURE_ID,
    .name = "Fixture collector",
    .version = "0.0.1",
    .description = "Test fixture.",
    .config_schema_json = "{\"type\":\"object\",\"properties\":{\"scale\":{\"type\":\"number\",\"default\":1}}}",
    .metrics_schema_json = "{\"measurements\":[{\"name\":\"fixture\",\"tags\":[\"source\"],"
                           "\"fields\":[{\"name\":\"value\",\"type\":\"f64\"}]}]}",
    .vtable = &fx_collector,
};

#ifdef FIXTURE_TWO_PLUGINS
static rdt4nn_status sink_write(rdt4nn_ctx *ctx, void *raw, const rdt4nn_batch *batch,
                                rdt4nn_write_result *result) {
    (void)ctx; (void)raw;
    result->status = RDT4NN_OK;
    result->processed_count = batch->count;
    return RDT4NN_OK;
}
static void sink_stop(rdt4nn_ctx *ctx, void *raw) { (void)ctx; (void)raw; }
static rdt4nn_status sink_start(rdt4nn_ctx *ctx, void *raw) { (void)ctx; (void)raw; return RDT4NN_OK; }
static const rdt4nn_sink_vtable fx_sink = {
    .struct_size = sizeof(rdt4nn_sink_vtable),
    .create = fx_create, .start = sink_start, .write = sink_write,
    .stop = sink_stop, .destroy = fx_destroy,
};
static const rdt4nn_plugin_desc fx_sink_desc = {
    .struct_size = sizeof(rdt4nn_plugin_desc),
    .kind = RDT4NN_KIND_SINK,
    .id = FIXTURE_ID ".sink",
    .name = "Fixture sink",
    .version = "0.0.1",
    .description = "Test fixture sink that accepts everything.",
    .vtable = &fx_sink,
};
static uint32_t fx_count(void) { return 2; }
static const rdt4nn_plugin_desc *fx_get(uint32_t i) { return i == 0 ? &fx_desc : i == 1 ? &fx_sink_desc : NULL; }
#else
static uint32_t fx_count(void) { return 1; }
static const rdt4nn_plugin_desc *fx_get(uint32_t i) { return i == 0 ? &fx_desc : NULL; }
#endif

static const rdt4nn_plugin_entry_t fx_entry = {
    .magic = FIXTURE_MAGIC,
    .struct_size = FIXTURE_ENTRY_SIZE,
    .abi_major = FIXTURE_ABI_MAJOR,
    .abi_minor = RDT4NN_ABI_MINOR,
    .sdk_version = RDT4NN_SDK_VERSION,
    .plugin_count = fx_count,
    .plugin_desc = fx_get,
};

RDT4NN_EXPORT const rdt4nn_plugin_entry_t *rdt4nn_plugin_entry(void) {
#ifdef FIXTURE_NULL_ENTRY
    (void)fx_entry;
    return NULL;
#else
    return &fx_entry;
#endif
}
