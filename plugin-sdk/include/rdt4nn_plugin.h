/*
 * rdt4nn_plugin.h -- the rdt4nn plugin ABI, version 1.0
 *
 * This header is the whole contract between the rdt4nn host and a plugin.
 * A plugin is a shared object that exports exactly ONE symbol,
 * `rdt4nn_plugin_entry`.  The host dlopen()s the file with
 * RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE (it is never unmapped), calls the
 * entry function, checks the magic number and ABI version it returns BEFORE
 * calling any other plugin code, and then reaches everything else through
 * the function tables below.  Plugins never link against host symbols: every
 * host service arrives through `rdt4nn_host_api`.
 *
 * Three kinds of plugin exist:
 *   - collector: measures something (host-wide or per container) when the
 *     host asks it to `collect`, and hands samples to the host with `emit`;
 *   - scheduler: decides where containers run (cpusets now, cache ways and
 *     memory bandwidth through the Platform API in a later ABI minor);
 *   - sink: stores batches of samples somewhere (a file, InfluxDB, ...).
 * One shared object may hold several plugins of any kinds (a factory: count
 * plus descriptor by index).
 *
 * ---------------------------------------------------------------------------
 * Rules that hold for every item in this header
 * ---------------------------------------------------------------------------
 * Versioning.  Every struct that crosses the boundary starts with
 *   `uint32_t struct_size`, filled with sizeof() by whoever creates it.
 *   Minor ABI versions only APPEND fields to structs and functions to tables;
 *   a zero (or NULL) appended field means "old behaviour".  Use RDT4NN_HAS()
 *   before touching a field added after 1.0.  A different MAJOR version is
 *   refused by the host before any plugin code other than the entry function
 *   has run.
 * Types.  Only fixed-width integers, double, pointers and NUL-terminated
 *   UTF-8 strings cross the boundary: no C enums, no bool, no long, no
 *   bitfields.  Constants are #defines.
 * Ownership.
 *   1. Pointers the host passes to a plugin are BORROWED for the duration of
 *      that one call; copy what you keep.
 *   2. Data handed to `emit` is copied by the host before `emit` returns; the
 *      plugin may reuse its buffers immediately.
 *   3. Descriptors, ids, schema strings and function tables returned by the
 *      plugin must stay valid until the process exits (the host never
 *      unmaps a plugin).  Per-instance data lives until `destroy` returns.
 *   4. Nothing is ever freed across the boundary.  Text travels host-ward only
 *      by copying (`set_error`, `log`).
 *   5. An instance is an opaque `void *` that only the plugin's `destroy`
 *      frees.
 * Threading.  Each function carries one of these tags:
 *   [any-thread]   may be called from any thread, concurrently with anything.
 *   [host-main]    called from the host's control thread only, one at a
 *                  time, and never concurrently with another call into the
 *                  SAME instance; calls into other instances of the plugin
 *                  (collect, write) may run meanwhile on other threads
 *                  (unless the plugin sets RDT4NN_CAP_SINGLE_THREADED).
 *   [instance]     may be called from any host worker thread, but calls into
 *                  one instance are NEVER concurrent with each other; calls
 *                  into different instances may run in parallel (unless the
 *                  plugin sets RDT4NN_CAP_SINGLE_THREADED, which makes the
 *                  host run every call into any of its instances, [host-main]
 *                  ones included, one at a time).
 *   [thread-safe]  (host functions) the plugin may call it from any thread,
 *                  including threads it created, until its `stop` returns.
 * Forbidden in plugins: installing signal handlers, changing process-wide
 *   state (setlocale, umask, rlimits, the working directory, environment),
 *   fork() without exec, exit()/abort() on errors, calling back into the host
 *   after `stop` returned, and leaving threads or file descriptors behind
 *   after `stop`.  `rdt4nn plugins check` detects several of these.
 * Errors.  Every function returning rdt4nn_status returns RDT4NN_OK on
 *   success.  A plugin returning anything else SHOULD first call
 *   `host->set_error(ctx, "...")` with a sentence a user can act on; the host
 *   reports a missing message as a contract violation in `plugins check`.
 */
#ifndef RDT4NN_PLUGIN_H
#define RDT4NN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Identification                                                           */
/* ------------------------------------------------------------------------ */

/** Magic number at the start of the entry descriptor: bytes "R4NN" in
 *  little-endian memory. */
#define RDT4NN_MAGIC 0x4E4E3452u
/** Major ABI version: changes only on incompatible changes. */
#define RDT4NN_ABI_MAJOR 1
/** Minor ABI version: bumped when fields or functions are appended. */
#define RDT4NN_ABI_MINOR 0
/** Version of this SDK (header + helpers), for logs only. */
#define RDT4NN_SDK_VERSION "1.0.0"
/** Name of the only symbol a plugin exports. */
#define RDT4NN_ENTRY_SYMBOL "rdt4nn_plugin_entry"

/** Marks the entry function for export.  Build plugins with
 *  -fvisibility=hidden and the version script `rdt4nn.version` so that this is
 *  the only exported symbol.  Overridable (e.g. -DRDT4NN_EXPORT=) for tests. */
#ifndef RDT4NN_EXPORT
#  if defined(__GNUC__) || defined(__clang__)
#    define RDT4NN_EXPORT __attribute__((visibility("default")))
#  else
#    define RDT4NN_EXPORT
#  endif
#endif

/** True when the struct `p` points to, as sized by its creator, contains
 *  field `f`.  Use it before reading any field appended after ABI 1.0. */
#define RDT4NN_HAS(p, f) \
    ((p)->struct_size >= offsetof(__typeof__(*(p)), f) + sizeof((p)->f))

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call, in both directions. */
typedef int32_t rdt4nn_status;

/** Success. */
#define RDT4NN_OK 0
/** Transient failure (device busy, endpoint down).  The host backs off
 *  (capped, with jitter) and calls again later. */
#define RDT4NN_E_RETRY 1
/** The hardware or kernel lacks a feature.  The host disables this instance,
 *  reports the `set_error` text once, and never writes zeros in its place. */
#define RDT4NN_E_UNSUPPORTED 2
/** The configuration is invalid.  The host fails start-up with the message. */
#define RDT4NN_E_CONFIG 3
/** Missing privilege (root, CAP_PERFMON, resctrl mounted read-only...).
 *  The host disables the instance or fails the run, per configuration. */
#define RDT4NN_E_PERMISSION 4
/** Broken state.  The host stops and destroys the instance and never calls
 *  it again. */
#define RDT4NN_E_FATAL 5
/** Host to plugin, from `emit`: the host's buffers are full and the batch was
 *  NOT taken; the plugin may drop it or retry on its next call. */
#define RDT4NN_E_BACKPRESSURE 6
/** Host to plugin: malformed argument (e.g. a sample without fields, a NULL
 *  key); the host logs which and ignores the offending data. */
#define RDT4NN_E_INVALID 7
/** Host to plugin, from the config accessors: the key is not set. */
#define RDT4NN_E_NOT_FOUND 8

/* ------------------------------------------------------------------------ */
/* Plugin kinds, log levels, field types, capability bits                   */
/* ------------------------------------------------------------------------ */

#define RDT4NN_KIND_COLLECTOR 1u
#define RDT4NN_KIND_SCHEDULER 2u
#define RDT4NN_KIND_SINK 3u
/* 4 is reserved for a future "processor" kind. */

#define RDT4NN_LOG_TRACE 0
#define RDT4NN_LOG_DEBUG 1
#define RDT4NN_LOG_INFO 2
#define RDT4NN_LOG_WARN 3
#define RDT4NN_LOG_ERROR 4

#define RDT4NN_FIELD_F64 1u    /* v.f64                                    */
#define RDT4NN_FIELD_I64 2u    /* v.i64                                    */
#define RDT4NN_FIELD_U64 3u    /* v.u64                                    */
#define RDT4NN_FIELD_BOOL 4u   /* v.u64, 0 = false, 1 = true               */
#define RDT4NN_FIELD_STRING 5u /* v.str, UTF-8, NUL-terminated, non-NULL   */

/** Collector capability: one instance per container (the host creates an
 *  instance for every container that enables this collector).  Without it,
 *  one instance observes the whole host. */
#define RDT4NN_CAP_PER_CONTAINER 0x1u
/** The plugin keeps global state (e.g. a library that is not re-entrant):
 *  the host never calls two of its instances at the same time. */
#define RDT4NN_CAP_SINGLE_THREADED 0x2u

/** What a collector instance observes (see rdt4nn_target). */
#define RDT4NN_TARGET_HOST 1u
#define RDT4NN_TARGET_CONTAINER 2u

/* ------------------------------------------------------------------------ */
/* Samples                                                                  */
/* ------------------------------------------------------------------------ */

/** Host-owned, opaque, one per plugin instance (and one per library for
 *  `library_init`).  Pass it back unchanged to host functions. */
typedef struct rdt4nn_ctx rdt4nn_ctx;

/** A tag: an indexed string dimension (InfluxDB tag).  Both strings are
 *  non-NULL, non-empty UTF-8. */
typedef struct rdt4nn_tag {
    const char *key;
    const char *value;
} rdt4nn_tag;

/** A typed field value.  `type` is one of RDT4NN_FIELD_*; a field's type never
 *  changes between samples of one measurement. */
typedef struct rdt4nn_field {
    const char *key;
    uint32_t type;
    uint32_t reserved; /* must be 0 */
    union {
        double f64;
        int64_t i64;
        uint64_t u64;
        const char *str;
    } v;
} rdt4nn_field;

/** One sample: measurement, tags, fields, time.  A metric the platform cannot
 *  provide is left out, never sent as zero. */
typedef struct rdt4nn_sample {
    uint32_t struct_size; /* sizeof(rdt4nn_sample) */
    uint32_t n_tags;
    uint32_t n_fields;    /* >= 1 */
    uint32_t reserved;    /* must be 0 */
    const char *measurement;
    const rdt4nn_tag *tags;     /* n_tags entries, may be NULL if n_tags == 0 */
    const rdt4nn_field *fields; /* n_fields entries */
    /** Realtime (Unix epoch) nanoseconds; 0 = the current tick's timestamp
     *  (`rdt4nn_collect_args.t_real_ns`). */
    int64_t t_real_ns;
} rdt4nn_sample;

/** A batch of samples sharing `common_tags`.  The host adds its own tags
 *  (benchmark_id, container_id, container_name, container_index, collector)
 *  to every sample; a plugin must not set those keys itself. */
typedef struct rdt4nn_batch {
    uint32_t struct_size; /* sizeof(rdt4nn_batch) */
    uint32_t count;       /* samples */
    uint32_t n_common;    /* common_tags */
    uint32_t reserved;    /* must be 0 */
    const rdt4nn_sample *samples;
    const rdt4nn_tag *common_tags;
} rdt4nn_batch;

/* ------------------------------------------------------------------------ */
/* What an instance observes                                                */
/* ------------------------------------------------------------------------ */

/** The host or container a collector instance observes, or the container a
 *  scheduler is asked to place.  Borrowed: valid until the call that returned
 *  or received it returns.  Strings are never NULL ("" when unknown). */
typedef struct rdt4nn_target {
    uint32_t struct_size; /* sizeof(rdt4nn_target) */
    uint32_t kind;        /* RDT4NN_TARGET_HOST or RDT4NN_TARGET_CONTAINER */
    int32_t index;        /* the container's configured index; -1 for host */
    int32_t pid;          /* main process id once running, else 0 */
    const char *name;     /* container name as configured */
    const char *id;       /* full container id (64 hex), "" before create */
    const char *image;    /* image reference */
    const char *cpuset;   /* cpulist the container is pinned to ("0-3,8"),
                             "" when the configuration leaves it open */
    int32_t cpus_requested; /* CPUs wanted when cpuset is "" (>= 1), else 0 */
    int32_t reserved;       /* 0 */
} rdt4nn_target;

/* ------------------------------------------------------------------------ */
/* The host API table                                                       */
/* ------------------------------------------------------------------------ */

/** Services the host offers.  Passed to `library_init`; valid until the
 *  process exits.  Append-only: check RDT4NN_HAS() for slots newer than the
 *  ABI minor you were built against. */
typedef struct rdt4nn_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /** [thread-safe] Log a message, prefixed by the host with the plugin id
     *  and instance name.  `msg` is copied.  `level` is RDT4NN_LOG_*. */
    void (*log)(rdt4nn_ctx *ctx, int32_t level, const char *msg);

    /** [thread-safe] Log at most one message per `key` every few seconds
     *  (the host counts and reports what it suppressed).  For failures that
     *  repeat on every tick.  `key` and `msg` are copied. */
    void (*log_ratelimited)(rdt4nn_ctx *ctx, const char *key, int32_t level,
                            const char *msg);

    /** [thread-safe] Hand a batch of samples to the host.  The host copies
     *  everything before returning.  Returns RDT4NN_OK, RDT4NN_E_BACKPRESSURE
     *  (nothing taken) or RDT4NN_E_INVALID (nothing taken; the reason is
     *  logged).  Allowed between `start` and the return of `stop`; later calls
     *  are dropped and reported as a contract violation. */
    rdt4nn_status (*emit)(rdt4nn_ctx *ctx, const rdt4nn_batch *batch);

    /** [thread-safe] Attach a message to the status the current call is about
     *  to return.  `msg` is copied; the last call before returning wins.
     *  `ctx` may be the library context during `library_init`. */
    void (*set_error)(rdt4nn_ctx *ctx, const char *msg);

    /** [thread-safe] Wall-clock nanoseconds since the Unix epoch
     *  (CLOCK_REALTIME).  The one clock every plugin shares. */
    int64_t (*now_realtime_ns)(void);

    /** [thread-safe] Monotonic nanoseconds (CLOCK_MONOTONIC) -- the clock the
     *  host schedules ticks on. */
    int64_t (*now_monotonic_ns)(void);

    /** [instance] The instance's configuration as a JSON object text (already
     *  validated against the plugin's config schema, defaults filled in).
     *  Never NULL ("{}" when empty).  Valid until the current call returns;
     *  plugins read it during `create` and copy what they need. */
    const char *(*config_json)(rdt4nn_ctx *ctx);

    /** [instance] Read one top-level key of the instance's configuration.
     *  Return RDT4NN_OK and set `*out`; RDT4NN_E_NOT_FOUND when absent or
     *  null; RDT4NN_E_CONFIG when present with another type (the host then
     *  already knows the key and type for its message).  A string result is
     *  borrowed until the current call returns.  bool results are 0 or 1. */
    rdt4nn_status (*config_get_string)(rdt4nn_ctx *ctx, const char *key,
                                       const char **out);
    rdt4nn_status (*config_get_i64)(rdt4nn_ctx *ctx, const char *key,
                                    int64_t *out);
    rdt4nn_status (*config_get_f64)(rdt4nn_ctx *ctx, const char *key,
                                    double *out);
    rdt4nn_status (*config_get_bool)(rdt4nn_ctx *ctx, const char *key,
                                     int32_t *out);

    /** [instance] What this instance observes.  Borrowed until the current
     *  call returns; re-read it in `start` (the pid is known only once the
     *  container runs).  Never NULL. */
    const rdt4nn_target *(*target)(rdt4nn_ctx *ctx);

    /** [thread-safe] Look up a versioned extension table by id, e.g.
     *  "rdt4nn.platform/1".  Returns NULL when the host does not provide it.
     *  RESERVED in ABI 1.0: the scheduler Platform API (set cpusets,
     *  create/remove resctrl groups, write schemata, assign a container, read
     *  monitoring data) arrives as "rdt4nn.platform/1" in a later minor.
     *  Hosts implementing only 1.0 return NULL for every id. */
    const void *(*get_extension)(rdt4nn_ctx *ctx, const char *ext_id);
} rdt4nn_host_api;

/* ------------------------------------------------------------------------ */
/* Collectors                                                               */
/* ------------------------------------------------------------------------ */

/** Arguments of one `collect` call.  Borrowed for the call. */
typedef struct rdt4nn_collect_args {
    uint32_t struct_size;
    uint32_t reserved;
    /** Sequence number of this collection for this instance, from 0. */
    uint64_t sequence;
    /** The tick's monotonic time (the deadline the host scheduled). */
    int64_t now_mono_ns;
    /** Monotonic time of this instance's previous successful collection (or
     *  of `start` for the first); the measurement window is
     *  [window_start_mono_ns, now_mono_ns). */
    int64_t window_start_mono_ns;
    /** Realtime timestamp of the tick, read once per tick for all
     *  instances: use it (or 0 in rdt4nn_sample) as the samples' time. */
    int64_t t_real_ns;
} rdt4nn_collect_args;

typedef struct rdt4nn_collector_vtable {
    uint32_t struct_size; /* sizeof(rdt4nn_collector_vtable) */
    uint32_t caps;        /* RDT4NN_CAP_* bits */

    /** [host-main] Validate the configuration (host->config_*) and allocate
     *  the instance.  No hardware access, no threads, no emit.  `host` is
     *  valid for the life of the process (keep it in the instance); `ctx`
     *  identifies this instance in every later call.  On success set
     *  `*out_instance` (may be NULL if the plugin needs no state) and return
     *  RDT4NN_OK; on bad configuration return RDT4NN_E_CONFIG with set_error.
     *  Required. */
    rdt4nn_status (*create)(const rdt4nn_host_api *host, rdt4nn_ctx *ctx,
                            void **out_instance);

    /** [host-main] Acquire resources (open counters, create groups, start
     *  threads).  May return RDT4NN_E_RETRY, RDT4NN_E_UNSUPPORTED or
     *  RDT4NN_E_PERMISSION with set_error.  Must be idempotent.  `stop` is
     *  called even after a failed `start`.  Required. */
    rdt4nn_status (*start)(rdt4nn_ctx *ctx, void *instance);

    /** [instance] Measure the window described by `args` and `emit` the
     *  samples.  Keep it short (tens of microseconds; never busy-wait): the
     *  host normally runs a tick's collect calls one after another on its
     *  real-time (SCHED_FIFO) sampling thread; a tick that takes longer than
     *  5 ms (at most half the period) makes another host thread take over
     *  ticking, the rest of the tick run on other threads, and the slow call
     *  continue at normal priority.  The host enforces a time budget per call
     *  and skips this instance's next tick when a call overruns.  Returning
     *  RDT4NN_E_RETRY makes the host back off; RDT4NN_E_UNSUPPORTED disables
     *  the instance.  Required. */
    rdt4nn_status (*collect)(rdt4nn_ctx *ctx, void *instance,
                             const rdt4nn_collect_args *args);

    /** [host-main] Release everything `start` acquired (close fds, remove
     *  groups, join threads), even after a failed `start`.  No host calls
     *  (no emit, no log) after it returns.  Required. */
    void (*stop)(rdt4nn_ctx *ctx, void *instance);

    /** [host-main] Free the instance.  Called once, after `stop` (or after a
     *  successful `create` that was never started).  No host calls.
     *  Required. */
    void (*destroy)(void *instance);
} rdt4nn_collector_vtable;

/* ------------------------------------------------------------------------ */
/* Schedulers                                                               */
/* ------------------------------------------------------------------------ */

/** Where the scheduler wants a container.  The host provides the buffers;
 *  the scheduler writes NUL-terminated cpulists ("0-3,8") that fit in the
 *  given capacity (bytes, including the NUL).  An empty string means "no
 *  preference / leave as configured". */
typedef struct rdt4nn_placement {
    uint32_t struct_size;
    uint32_t cpuset_cap;
    char *cpuset;
    uint32_t cpuset_mems_cap;
    uint32_t reserved;
    char *cpuset_mems;
} rdt4nn_placement;

/** Arguments of one scheduler tick.  Borrowed for the call. */
typedef struct rdt4nn_tick_args {
    uint32_t struct_size;
    uint32_t reserved;
    int64_t now_mono_ns;
    int64_t t_real_ns;
    /** RESERVED (NULL in ABI 1.0): the latest observations per container,
     *  defined together with the Platform API. */
    const void *observations;
} rdt4nn_tick_args;

typedef struct rdt4nn_scheduler_vtable {
    uint32_t struct_size; /* sizeof(rdt4nn_scheduler_vtable) */
    uint32_t caps;        /* RDT4NN_CAP_SINGLE_THREADED or 0 (PER_CONTAINER is for collectors) */

    /** [host-main] As for collectors: validate config, allocate, no side
     *  effects; keep `host` (valid for the life of the process).  Required. */
    rdt4nn_status (*create)(const rdt4nn_host_api *host, rdt4nn_ctx *ctx,
                            void **out_instance);
    /** [host-main] Prepare (read topology, ...).  Required. */
    rdt4nn_status (*start)(rdt4nn_ctx *ctx, void *instance);
    /** [host-main] A container is about to be created: fill `out` with its
     *  placement.  `container` is borrowed for the call.  Return
     *  RDT4NN_E_RETRY if no room is free now (the host will ask again),
     *  RDT4NN_E_CONFIG if the request can never be satisfied.  Required. */
    rdt4nn_status (*admit)(rdt4nn_ctx *ctx, void *instance,
                           const rdt4nn_target *container,
                           rdt4nn_placement *out);
    /** [host-main] A container stopped; its resources are free again.
     *  Required. */
    void (*release)(rdt4nn_ctx *ctx, void *instance,
                    const rdt4nn_target *container);
    /** [host-main] Periodic decision point.  Side effects only through the
     *  Platform API (get_extension).  Optional (NULL = no periodic work). */
    rdt4nn_status (*on_tick)(rdt4nn_ctx *ctx, void *instance,
                             const rdt4nn_tick_args *args);
    /** [host-main] Undo everything start/on_tick did.  Required. */
    void (*stop)(rdt4nn_ctx *ctx, void *instance);
    /** [host-main] Free the instance.  Required. */
    void (*destroy)(void *instance);
} rdt4nn_scheduler_vtable;

/* ------------------------------------------------------------------------ */
/* Sinks                                                                    */
/* ------------------------------------------------------------------------ */

/** How a sink reports the fate of a batch.  The host zero-fills it, sets
 *  `struct_size`, and provides `rejected` (capacity `rejected_cap`, at least
 *  the batch size).  The sink processes samples in order:
 *    - samples [0, processed_count) were handled: each is stored, except the
 *      indices listed in rejected[0 .. rejected_count) which are refused for
 *      good (bad data; the host counts them and logs the set_error reason);
 *    - samples [processed_count, count) were NOT handled; the host keeps them
 *      and offers them again later (after `retry_after_ns` if non-zero).
 *  `status` is RDT4NN_OK when all samples were handled, RDT4NN_E_RETRY when
 *  some must be retried, RDT4NN_E_FATAL / RDT4NN_E_PERMISSION /
 *  RDT4NN_E_CONFIG when the sink cannot work at all (e.g. unknown database,
 *  bad credentials) -- then the unhandled samples are kept and reported. */
typedef struct rdt4nn_write_result {
    uint32_t struct_size;
    rdt4nn_status status;
    uint32_t processed_count;
    uint32_t rejected_count;
    uint32_t *rejected; /* host-owned array */
    uint32_t rejected_cap;
    int32_t http_status; /* last HTTP status for network sinks, else 0 */
    int64_t retry_after_ns;
} rdt4nn_write_result;

typedef struct rdt4nn_sink_vtable {
    uint32_t struct_size; /* sizeof(rdt4nn_sink_vtable) */
    uint32_t caps;        /* RDT4NN_CAP_SINGLE_THREADED or 0 (PER_CONTAINER is for collectors) */

    /** [host-main] Validate config, allocate; no I/O; keep `host` (valid for
     *  the life of the process).  Required. */
    rdt4nn_status (*create)(const rdt4nn_host_api *host, rdt4nn_ctx *ctx,
                            void **out_instance);
    /** [host-main] Open files / connect / check the database.  Return
     *  RDT4NN_E_CONFIG or RDT4NN_E_PERMISSION with a message naming the
     *  database or path when it can never work.  Required. */
    rdt4nn_status (*start)(rdt4nn_ctx *ctx, void *instance);
    /** [instance] Store `batch` (borrowed for the call; common tags already
     *  merged into each sample by the host) and fill `result`.  Calls to one
     *  instance are serialised.  Required. */
    rdt4nn_status (*write)(rdt4nn_ctx *ctx, void *instance,
                           const rdt4nn_batch *batch,
                           rdt4nn_write_result *result);
    /** [instance] Make everything written so far durable (fsync, drain
     *  client buffers).  Optional (NULL = nothing buffered). */
    rdt4nn_status (*flush)(rdt4nn_ctx *ctx, void *instance);
    /** [host-main] Called after the last write returned; release
     *  everything.  Required. */
    void (*stop)(rdt4nn_ctx *ctx, void *instance);
    /** [host-main] Free the instance.  Required. */
    void (*destroy)(void *instance);
} rdt4nn_sink_vtable;

/* ------------------------------------------------------------------------ */
/* Descriptors and the entry point                                          */
/* ------------------------------------------------------------------------ */

/** Describes one plugin.  Returned by `plugin_desc`; the struct and every
 *  string it points to must stay valid for the life of the process. */
typedef struct rdt4nn_plugin_desc {
    uint32_t struct_size; /* sizeof(rdt4nn_plugin_desc) */
    uint32_t kind;        /* RDT4NN_KIND_* */
    /** Stable id, forever: lower-case reverse-DNS ("org.example-lab.rdt") or a
     *  short name for rdt4nn's own plugins ("procstat").  [a-z0-9._-], unique
     *  among all loaded plugins.  Required. */
    const char *id;
    const char *name;        /* human-readable name; required */
    const char *version;     /* semantic version "1.2.3"; required */
    const char *description; /* one sentence; required */
    const char *vendor;      /* optional, may be NULL */
    const char *url;         /* optional, may be NULL */
    const char *license;     /* optional, SPDX id, may be NULL */
    /** NULL-terminated list of what the plugin needs or offers ("linux",
     *  "needs-root", "perf_event", "resctrl"); may be NULL. */
    const char *const *features;
    /** JSON Schema (subset: type object/string/integer/number/boolean/array,
     *  properties, required, default, enum, minimum, maximum, items,
     *  description, additionalProperties=false) of the instance config.
     *  The host validates configs against it before `create`; unknown keys
     *  are errors.  NULL = takes no configuration. */
    const char *config_schema_json;
    /** JSON description of what the plugin emits:
     *  {"measurements":[{"name":"procstat","tags":["cpu"],
     *    "fields":[{"name":"cpu_busy_percent","type":"f64","unit":"%",
     *               "kind":"gauge","description":"..."}]}]}
     *  type: f64|i64|u64|bool|string; kind: gauge|counter|delta.
     *  Required for collectors (checked by `plugins check`), NULL otherwise. */
    const char *metrics_schema_json;
    /** The kind's function table: rdt4nn_collector_vtable,
     *  rdt4nn_scheduler_vtable or rdt4nn_sink_vtable.  Required. */
    const void *vtable;
} rdt4nn_plugin_desc;

/** What `rdt4nn_plugin_entry` returns: static, constant data. */
typedef struct rdt4nn_plugin_entry_t {
    uint32_t magic;       /* RDT4NN_MAGIC */
    uint32_t struct_size; /* sizeof(rdt4nn_plugin_entry_t) */
    uint16_t abi_major;   /* RDT4NN_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* RDT4NN_ABI_MINOR the plugin was built with */
    uint32_t reserved;    /* must be 0 */
    const char *sdk_version; /* RDT4NN_SDK_VERSION, for logs */

    /** [host-main] Called once after the version checks passed, before any
     *  other function.  `host` is valid for the life of the process;
     *  `host_abi_minor` tells which appended slots exist; `so_path` is the
     *  file the plugin was loaded from (borrowed).  `lib_ctx` is a library
     *  context for log/set_error.  Return RDT4NN_OK, or an error with
     *  set_error(lib_ctx, ...) to refuse loading.  Optional (NULL). */
    rdt4nn_status (*library_init)(const rdt4nn_host_api *host,
                                  rdt4nn_ctx *lib_ctx,
                                  uint32_t host_abi_minor,
                                  const char *so_path);
    /** [host-main] Called at host shutdown after every instance was
     *  destroyed.  Optional (NULL). */
    void (*library_deinit)(void);

    /** [any-thread] Number of plugins in this file (>= 1).  No side effects,
     *  no host calls.  Required. */
    uint32_t (*plugin_count)(void);
    /** [any-thread] Descriptor of plugin `index` (< plugin_count()).  No side
     *  effects, no host calls.  Required. */
    const rdt4nn_plugin_desc *(*plugin_desc)(uint32_t index);
} rdt4nn_plugin_entry_t;

/** The only exported symbol.  [any-thread] Returns a pointer to a static
 *  constant rdt4nn_plugin_entry_t; must have no side effects. */
RDT4NN_EXPORT const rdt4nn_plugin_entry_t *rdt4nn_plugin_entry(void);

/** Signature of rdt4nn_plugin_entry, for dlsym() users. */
typedef const rdt4nn_plugin_entry_t *(*rdt4nn_plugin_entry_fn)(void);

/* ------------------------------------------------------------------------ */
/* Layout freeze (x86_64 / aarch64 LP64).  Mirrored by a Swift test.        */
/* ------------------------------------------------------------------------ */
#if defined(__LP64__) && !defined(__cplusplus)
_Static_assert(sizeof(rdt4nn_tag) == 16, "rdt4nn_tag layout");
_Static_assert(sizeof(rdt4nn_field) == 24, "rdt4nn_field layout");
_Static_assert(offsetof(rdt4nn_field, v) == 16, "rdt4nn_field layout");
_Static_assert(sizeof(rdt4nn_sample) == 48, "rdt4nn_sample layout");
_Static_assert(offsetof(rdt4nn_sample, t_real_ns) == 40, "rdt4nn_sample layout");
_Static_assert(sizeof(rdt4nn_batch) == 32, "rdt4nn_batch layout");
_Static_assert(sizeof(rdt4nn_target) == 56, "rdt4nn_target layout");
_Static_assert(sizeof(rdt4nn_host_api) == 112, "rdt4nn_host_api layout");
_Static_assert(offsetof(rdt4nn_host_api, get_extension) == 104, "rdt4nn_host_api layout");
_Static_assert(sizeof(rdt4nn_collect_args) == 40, "rdt4nn_collect_args layout");
_Static_assert(sizeof(rdt4nn_collector_vtable) == 48, "rdt4nn_collector_vtable layout");
_Static_assert(sizeof(rdt4nn_placement) == 32, "rdt4nn_placement layout");
_Static_assert(sizeof(rdt4nn_tick_args) == 32, "rdt4nn_tick_args layout");
_Static_assert(sizeof(rdt4nn_scheduler_vtable) == 64, "rdt4nn_scheduler_vtable layout");
_Static_assert(sizeof(rdt4nn_write_result) == 40, "rdt4nn_write_result layout");
_Static_assert(sizeof(rdt4nn_sink_vtable) == 56, "rdt4nn_sink_vtable layout");
_Static_assert(sizeof(rdt4nn_plugin_desc) == 96, "rdt4nn_plugin_desc layout");
_Static_assert(offsetof(rdt4nn_plugin_desc, vtable) == 88, "rdt4nn_plugin_desc layout");
_Static_assert(sizeof(rdt4nn_plugin_entry_t) == 56, "rdt4nn_plugin_entry_t layout");
_Static_assert(offsetof(rdt4nn_plugin_entry_t, sdk_version) == 16, "rdt4nn_plugin_entry_t layout");
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RDT4NN_PLUGIN_H */
