/*
 * loadavg.c -- a complete rdt4nn collector plugin in C.
 *
 * Reads /proc/loadavg (or a configured path) on every collection and emits
 * one `loadavg` sample: the 1/5/15-minute load averages, runnable and total
 * scheduling entities, and the most recent pid.  It shows everything a
 * plugin author needs: the entry point, a descriptor with config and metric
 * schemas, create/start/collect/stop/destroy, configuration access, error
 * messages with set_error, and emitting a batch.
 *
 * Build:  make            (see Makefile; produces librdt4nn-example-loadavg.so)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdt4nn_plugin.h"

/* Per-instance state: everything lives here, no globals except constants. */
typedef struct loadavg_instance {
    const rdt4nn_host_api *host; /* valid for the life of the process */
    char path[256];              /* file to read, copied from the config */
    int started;
} loadavg_instance;

/* Reads and parses the file; returns 0 on success, else errno. */
static int read_loadavg(const char *path, double avg[3], long *runnable,
                        long *entities, long *last_pid) {
    FILE *file = fopen(path, "re");
    if (file == NULL) return errno;
    int matched = fscanf(file, "%lf %lf %lf %ld/%ld %ld", &avg[0], &avg[1],
                         &avg[2], runnable, entities, last_pid);
    fclose(file);
    return matched == 6 ? 0 : EINVAL;
}

static rdt4nn_status loadavg_create(const rdt4nn_host_api *host,
                                    rdt4nn_ctx *ctx, void **out_instance) {
    const char *path = "/proc/loadavg";
    rdt4nn_status status = host->config_get_string(ctx, "path", &path);
    if (status != RDT4NN_OK && status != RDT4NN_E_NOT_FOUND) {
        host->set_error(ctx, "'path' must be a string");
        return RDT4NN_E_CONFIG;
    }
    if (strlen(path) >= sizeof(((loadavg_instance *)0)->path)) {
        host->set_error(ctx, "'path' is longer than 255 bytes");
        return RDT4NN_E_CONFIG;
    }
    loadavg_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) {
        host->set_error(ctx, "out of memory");
        return RDT4NN_E_FATAL;
    }
    instance->host = host;
    strcpy(instance->path, path); /* `path` is borrowed: copy it now */
    *out_instance = instance;
    return RDT4NN_OK;
}

static rdt4nn_status loadavg_start(rdt4nn_ctx *ctx, void *raw) {
    loadavg_instance *instance = raw;
    double avg[3];
    long runnable, entities, last_pid;
    int error = read_loadavg(instance->path, avg, &runnable, &entities, &last_pid);
    if (error != 0) {
        char message[512];
        snprintf(message, sizeof message, "cannot read %s: %s", instance->path,
                 strerror(error));
        instance->host->set_error(ctx, message);
        return error == ENOENT ? RDT4NN_E_UNSUPPORTED : RDT4NN_E_RETRY;
    }
    instance->started = 1;
    return RDT4NN_OK;
}

static rdt4nn_status loadavg_collect(rdt4nn_ctx *ctx, void *raw,
                                     const rdt4nn_collect_args *args) {
    loadavg_instance *instance = raw;
    double avg[3];
    long runnable, entities, last_pid;
    int error = read_loadavg(instance->path, avg, &runnable, &entities, &last_pid);
    if (error != 0) {
        char message[512];
        snprintf(message, sizeof message, "cannot read %s: %s", instance->path,
                 strerror(error));
        instance->host->set_error(ctx, message);
        return RDT4NN_E_RETRY;
    }
    /* Everything below lives on the stack: the host copies it in emit(). */
    rdt4nn_field fields[6] = {
        {.key = "load1", .type = RDT4NN_FIELD_F64, .v.f64 = avg[0]},
        {.key = "load5", .type = RDT4NN_FIELD_F64, .v.f64 = avg[1]},
        {.key = "load15", .type = RDT4NN_FIELD_F64, .v.f64 = avg[2]},
        {.key = "runnable", .type = RDT4NN_FIELD_I64, .v.i64 = runnable},
        {.key = "scheduling_entities", .type = RDT4NN_FIELD_I64, .v.i64 = entities},
        {.key = "last_pid", .type = RDT4NN_FIELD_I64, .v.i64 = last_pid},
    };
    rdt4nn_sample sample = {
        .struct_size = sizeof sample,
        .n_fields = 6,
        .measurement = "loadavg",
        .fields = fields,
        .t_real_ns = args->t_real_ns,
    };
    rdt4nn_batch batch = {.struct_size = sizeof batch, .count = 1, .samples = &sample};
    rdt4nn_status status = instance->host->emit(ctx, &batch);
    if (status == RDT4NN_E_BACKPRESSURE) {
        instance->host->log_ratelimited(ctx, "backpressure", RDT4NN_LOG_WARN,
                                        "host buffers full; one sample dropped");
    }
    return RDT4NN_OK;
}

static void loadavg_stop(rdt4nn_ctx *ctx, void *raw) {
    (void)ctx;
    loadavg_instance *instance = raw;
    instance->started = 0; /* nothing else to release: no fds kept open */
}

static void loadavg_destroy(void *raw) { free(raw); }

static const rdt4nn_collector_vtable loadavg_vtable = {
    .struct_size = sizeof(rdt4nn_collector_vtable),
    .caps = 0, /* one instance for the whole host */
    .create = loadavg_create,
    .start = loadavg_start,
    .collect = loadavg_collect,
    .stop = loadavg_stop,
    .destroy = loadavg_destroy,
};

static const char *const loadavg_features[] = {"linux", NULL};

static const rdt4nn_plugin_desc loadavg_descriptor = {
    .struct_size = sizeof(rdt4nn_plugin_desc),
    .kind = RDT4NN_KIND_COLLECTOR,
    .id = "org.rdt4nn.example.loadavg",
    .name = "Load average (example C plugin)",
    .version = "1.0.0",
    .description = "System load averages and runnable tasks from /proc/loadavg.",
    .vendor = "rdt4nn plugin SDK examples",
    .license = "MIT",
    .features = loadavg_features,
    .config_schema_json =
        "{\"type\":\"object\",\"properties\":{"
        "\"path\":{\"type\":\"string\",\"default\":\"/proc/loadavg\","
        "\"description\":\"File in /proc/loadavg format to read.\"}}}",
    .metrics_schema_json =
        "{\"measurements\":[{\"name\":\"loadavg\",\"tags\":[],\"fields\":["
        "{\"name\":\"load1\",\"type\":\"f64\",\"unit\":\"1\",\"kind\":\"gauge\"},"
        "{\"name\":\"load5\",\"type\":\"f64\",\"unit\":\"1\",\"kind\":\"gauge\"},"
        "{\"name\":\"load15\",\"type\":\"f64\",\"unit\":\"1\",\"kind\":\"gauge\"},"
        "{\"name\":\"runnable\",\"type\":\"i64\",\"unit\":\"1\",\"kind\":\"gauge\"},"
        "{\"name\":\"scheduling_entities\",\"type\":\"i64\",\"unit\":\"1\",\"kind\":\"gauge\"},"
        "{\"name\":\"last_pid\",\"type\":\"i64\",\"unit\":\"1\",\"kind\":\"gauge\"}]}]}",
    .vtable = &loadavg_vtable,
};

static uint32_t loadavg_count(void) { return 1; }

static const rdt4nn_plugin_desc *loadavg_desc(uint32_t index) {
    return index == 0 ? &loadavg_descriptor : NULL;
}

static const rdt4nn_plugin_entry_t loadavg_entry = {
    .magic = RDT4NN_MAGIC,
    .struct_size = sizeof(rdt4nn_plugin_entry_t),
    .abi_major = RDT4NN_ABI_MAJOR,
    .abi_minor = RDT4NN_ABI_MINOR,
    .sdk_version = RDT4NN_SDK_VERSION,
    .library_init = NULL, /* no library-wide state */
    .library_deinit = NULL,
    .plugin_count = loadavg_count,
    .plugin_desc = loadavg_desc,
};

RDT4NN_EXPORT const rdt4nn_plugin_entry_t *rdt4nn_plugin_entry(void) {
    return &loadavg_entry;
}
