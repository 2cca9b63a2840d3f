/*
 * petit/plugin.h: the C ABI between the Petit host and task-type plugins (ABI 1.1).
 *
 * A plugin is a shared library that exports exactly two functions, both declared at the end of
 * this header so that a definition with any other signature fails to compile:
 *
 *   petit_plugin_abi_info()  pure; the host calls it first and checks the block it returns
 *   petit_plugin_init()      the handshake; the plugin may refuse
 *
 * The host checks the block returned by petit_plugin_abi_info() before it runs any other plugin
 * code: the magic must match, the ABI major must equal the host's, and the plugin's minor must
 * not exceed the host's. Only then does it call petit_plugin_init().
 *
 * Rules that hold for every declaration below (sdk/ABI.md explains them at length):
 *  - Only C types cross: fixed-width integers, pointer + length string views, opaque handles,
 *    function pointers. No exceptions and no longjmp may cross in either direction.
 *  - Every struct starts with uint32_t struct_size, set by whoever fills the struct. Structs only
 *    grow, at the end, within a major version; a field added later is marked "since 1.N" and a
 *    reader checks struct_size before touching it.
 *  - Memory is freed by the side that allocated it. Whatever the host passes in is borrowed for
 *    the duration of the call; the host copies whatever the plugin hands back before returning.
 *  - Each declaration states its OWNERSHIP (who frees it), LIFETIME (until when it may be used)
 *    and THREADS (from where it may be called or read).
 *
 * 1.1 adds, without changing a byte of any 1.0 struct or calling convention: the two entry-point
 * prototypes and PETIT_PLUGIN_EXPORT; named handle types for the three plugin-owned pointers; one
 * meaning for PETIT_INVALID_PARAMS from execute; and the contracts on every hook. A plugin built
 * against 1.0 loads and runs unchanged on a 1.1 host.
 *
 * This header is C99 with <stddef.h> and <stdint.h> only; it compiles as C++ too.
 */
#ifndef PETIT_PLUGIN_H_
#define PETIT_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

/* The constants below are plain values: nothing to own, valid for ever, usable from any thread. */

#define PETIT_ABI_MAJOR 1
#define PETIT_ABI_MINOR 2

/* "PTIT" read as a little-endian uint32_t: tells a Petit plugin from any other library that
 * happens to export a symbol of the same name. */
#define PETIT_ABI_MAGIC 0x54495450u

/* Gives a function default visibility, so it is exported even when the plugin is compiled with
 * -fvisibility=hidden. The entry-point declarations below carry it already. */
#if defined(__GNUC__) || defined(__clang__)
#define PETIT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define PETIT_PLUGIN_EXPORT
#endif

/* The ABI 1.0 spelling of PETIT_PLUGIN_EXPORT, kept so 1.0 sources compile unchanged. */
#define PETIT_EXPORT PETIT_PLUGIN_EXPORT

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by create and execute; call set_error before returning anything but
 * PETIT_OK. Any other value is a plugin bug: the host fails the attempt naming the value. */
#define PETIT_OK 0
#define PETIT_ERROR 1           /* the task failed; the retry policy decides what happens next */
#define PETIT_ERROR_TRANSIENT 2 /* failed for a reason that may pass (network, busy resource) */
#define PETIT_CANCELLED 3       /* stopped because cancel was called or is_cancelled said so */
#define PETIT_TIMED_OUT 4       /* stopped because the attempt's timeout_ms ran out */
/* The parameters are wrong. A permanent failure: the attempt fails and is never retried, whatever
 * the retry policy says, since the same parameters cannot do better next time. create returns it
 * when it checks the parameters up front; execute may return it too (since 1.1) when it finds the
 * problem only while running. */
#define PETIT_INVALID_PARAMS 5

/* Log levels for petit_host_services.log. */
#define PETIT_LOG_DEBUG 0
#define PETIT_LOG_INFO 1
#define PETIT_LOG_WARN 2
#define PETIT_LOG_ERROR 3

/* Streams for petit_host_services.emit_output. */
#define PETIT_STREAM_STDOUT 1
#define PETIT_STREAM_STDERR 2

/* petit_task_type.flags */
#define PETIT_TASK_CANCELLABLE (1u << 0) /* cancel stops a running execute promptly */
#define PETIT_TASK_SERIAL (1u << 1)      /* at most one execute of this type at a time */
#define PETIT_TASK_IDEMPOTENT (1u << 2)  /* safe to re-run after a host crash mid-attempt */

/* A borrowed string view. data need not be NUL-terminated; data may be NULL only when size is 0.
 * OWNERSHIP: never owned by the receiver. LIFETIME: as stated where the view is handed over.
 * THREADS: a plain value; the bytes it points to are read-only to the receiver. */
typedef struct petit_str {
  const char* data;
  size_t size;
} petit_str;

/* The block petit_plugin_abi_info() returns.
 * OWNERSHIP: plugin-owned, static. LIFETIME: as long as the library is loaded.
 * THREADS: immutable; read from any thread. */
typedef struct petit_abi_info {
  uint32_t struct_size;       /* sizeof(petit_abi_info) as the plugin was compiled */
  uint32_t magic;             /* PETIT_ABI_MAGIC */
  uint32_t abi_major;         /* PETIT_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;         /* PETIT_ABI_MINOR the plugin was built against */
  const char* plugin_name;    /* NUL-terminated, non-empty: [a-z0-9_.-]+ */
  const char* plugin_version; /* NUL-terminated, free form ("1.2.0") */
} petit_abi_info;

/* One task attempt as the host sees it. Opaque to plugins; only passed back to host services.
 * OWNERSHIP: host-owned; never freed by the plugin. LIFETIME: from create until destroy returns
 * (until create returns when create fails). THREADS: host services accept it from any thread. */
typedef struct petit_exec_ctx petit_exec_ctx;

/* Handles the plugin defines and the host only stores and hands back (since 1.1). Each is a
 * void*, exactly as in 1.0, so 1.0 binaries and sources keep working and C converts them to and
 * from the plugin's own types without casts; the name says which hook may receive which pointer.
 * NULL is a valid value for each. */

/* The state create builds for one attempt.
 * OWNERSHIP: plugin-owned; the host never frees or dereferences it. LIFETIME: from a successful
 * create until destroy (the plugin frees it there; with no destroy hook, it must need no freeing).
 * THREADS: passed to execute and destroy on host worker threads, and to cancel on any thread. */
typedef void* petit_task_instance_ptr;

/* A task type's own state (petit_task_type.type_state), shared by all its attempts.
 * OWNERSHIP: plugin-owned; the host never frees or dereferences it. LIFETIME: until shutdown
 * returns. THREADS: passed to create on host worker threads, possibly several at once, so
 * whatever it points to must be safe for concurrent use. */
typedef void* petit_type_state_ptr;

/* The plugin's own state (petit_plugin_descriptor.plugin_state).
 * OWNERSHIP: plugin-owned; freed by the plugin in shutdown. LIFETIME: from init until shutdown
 * returns. THREADS: passed only to shutdown, on one thread. */
typedef void* petit_plugin_state_ptr;

/* Services the host offers to plugins, handed over once in petit_init_args.
 * OWNERSHIP: host-owned. LIFETIME: valid until the plugin's shutdown hook returns (the host never
 * unloads a library while anything built from it exists).
 * THREADS: every function is thread-safe and may be called from threads the plugin starts, but
 * only while the petit_exec_ctx it names is alive (between create and destroy).
 * Unless stated otherwise, each function below returns no memory, copies every view it receives
 * before returning (so the caller keeps OWNERSHIP of them and they need LIFETIME of the call
 * only), and obeys the THREADS rule above. */
typedef struct petit_host_services {
  uint32_t struct_size;
  uint32_t reserved; /* zero */

  /* Writes a line to the host's log, tagged with the attempt when ctx is not NULL. ctx may be
   * NULL (during init or shutdown, for instance). */
  void (*log)(petit_exec_ctx* ctx, int32_t level, petit_str message);

  /* Looks up an upstream output by its namespaced key "<task_id>.<key>". Returns 1 and fills
   * *out_value when found, 0 when not.
   * OWNERSHIP: *out_value is host-owned. LIFETIME: *out_value stays valid until destroy returns. */
  int32_t (*get_input)(petit_exec_ctx* ctx, petit_str key, petit_str* out_value);

  /* Records an output of this attempt under "<this task's id>.<key>". It reaches downstream
   * tasks only if the attempt succeeds. Returns PETIT_OK, or PETIT_ERROR when the key is empty or
   * the attempt is over (execute has returned). */
  int32_t (*set_output)(petit_exec_ctx* ctx, petit_str key, petit_str value);

  /* Looks up a job config value (scalars as their text, maps and lists as JSON). Returns 1 and
   * fills *out_value when found, 0 when not.
   * OWNERSHIP: *out_value is host-owned. LIFETIME: *out_value stays valid until destroy returns. */
  int32_t (*get_config)(petit_exec_ctx* ctx, petit_str key, petit_str* out_value);

  /* Returns 1 once the attempt has been cancelled or has timed out, 0 otherwise. Cheap. */
  int32_t (*is_cancelled)(petit_exec_ctx* ctx);

  /* Reports progress in [0, 1] with an optional message (size 0 for none). */
  void (*report_progress)(petit_exec_ctx* ctx, double fraction, petit_str message);

  /* Sets the error message recorded with a non-OK status. The last call wins. */
  void (*set_error)(petit_exec_ctx* ctx, petit_str message);

  /* Appends bytes to the attempt's captured stdout or stderr (PETIT_STREAM_*). The host streams
   * them to storage and applies the configured cap; the plugin need not buffer. */
  void (*emit_output)(petit_exec_ctx* ctx, int32_t stream, petit_str data);

  /* Records the exit code of the process the attempt ran, if it ran one. Retry conditions on
   * exit codes and `petit runs` read it. The last call wins. */
  void (*set_exit_code)(petit_exec_ctx* ctx, int32_t exit_code);

  /* Since 1.2 (a 1.1 host's table ends before it: check struct_size). Tells the host of a process
   * the attempt started: its pid, its process group (its own pid when it leads a group, which a
   * plugin should make it do) and its start time (field 22 of /proc/<pid>/stat, clock ticks
   * since boot; 0 when unknown). The host records it outside the store, on this machine only, and
   * forgets it when the attempt ends; should the host die first, its next start terminates that
   * process group before anything is retried, even members that cleared their environment, and
   * never a group whose leader's pid now names a process started at another time. May be called
   * once per process the attempt starts. */
  void (*set_process)(petit_exec_ctx* ctx, int64_t pid, int64_t process_group,
                      uint64_t start_ticks);
} petit_host_services;

/* What create receives about the attempt.
 * OWNERSHIP: host-owned. LIFETIME: the struct and every view in it stay valid until destroy
 * returns (a plugin may keep the pointer in its instance). THREADS: immutable; read from any
 * thread. */
typedef struct petit_task_info {
  uint32_t struct_size;
  uint32_t attempt; /* 1 for the first attempt, 2 for the first retry, ... */
  petit_str job_id;
  petit_str run_id;
  petit_str task_id;
  petit_str params_json; /* the task's parameters: a JSON object, templates already expanded */
  int64_t timeout_ms;    /* per-attempt timeout, 0 for none; the host also calls cancel then */
} petit_task_info;

/* One task type. A plugin exports any number of them through its descriptor.
 * OWNERSHIP: plugin-owned (usually static). LIFETIME: until shutdown returns; the host copies it
 * at load. THREADS: immutable once handed over. For one instance, create, execute and destroy
 * run once each, in that order, never concurrently with each other; several instances of a type
 * run at once unless PETIT_TASK_SERIAL is set. */
typedef struct petit_task_type {
  uint32_t struct_size;
  uint32_t flags;                  /* PETIT_TASK_* */
  const char* name;                /* NUL-terminated, unique in the host: [a-z0-9_.-]+ */
  const char* summary;             /* NUL-terminated, one line */
  const char* params_schema_json;  /* NUL-terminated JSON Schema of params_json, or NULL */
  petit_type_state_ptr type_state; /* passed back to create unchanged; may be NULL */

  /* Builds an instance for one attempt. Returns PETIT_OK and sets *out_instance (may be NULL if
   * the type keeps no state), or a non-OK status after calling set_error; PETIT_INVALID_PARAMS
   * says the parameters are wrong.
   * OWNERSHIP: info and ctx are host-owned and borrowed; *out_instance stays plugin-owned (the
   * host keeps it only to pass it back). On a non-OK status the host calls neither execute nor
   * destroy, so create frees whatever it allocated and leaves *out_instance alone.
   * LIFETIME: info and ctx stay valid until destroy returns (until create returns on failure).
   * THREADS: a host worker thread; may run concurrently with other attempts' hooks. */
  int32_t (*create)(petit_type_state_ptr type_state, const petit_task_info* info,
                    petit_exec_ctx* ctx, petit_task_instance_ptr* out_instance);

  /* Runs the attempt to completion and returns a PETIT_* status. Blocks the calling worker.
   * OWNERSHIP: instance is plugin-owned and stays so; ctx is host-owned and borrowed.
   * LIFETIME: called once, after a successful create; once it returns, set_output is refused,
   * but ctx and the views it gave out stay valid until destroy returns.
   * THREADS: a host worker thread; cancel may run concurrently on another thread. */
  int32_t (*execute)(petit_task_instance_ptr instance, petit_exec_ctx* ctx);

  /* Optional (NULL when not cancellable; the host then only flips is_cancelled). Asks a running
   * execute to stop soon.
   * OWNERSHIP: instance is borrowed; cancel must not free it.
   * LIFETIME: may be called before execute starts, while it runs, or after it returns, but never
   * once destroy may have started (the host serialises the two).
   * THREADS: any thread, concurrently with execute; must be thread-safe and must not block for
   * long. */
  void (*cancel)(petit_task_instance_ptr instance);

  /* Optional (NULL when instances need no freeing). Frees the instance.
   * OWNERSHIP: the plugin frees instance and whatever it owns; the host never touches it again.
   * LIFETIME: called once for every successful create, after execute has returned and after any
   * cancel has returned; when it returns, ctx, info and every view the host gave for the attempt
   * are gone.
   * THREADS: a host worker thread; never concurrently with execute or cancel of this instance. */
  void (*destroy)(petit_task_instance_ptr instance);
} petit_task_type;

/* What the host offers at the handshake.
 * OWNERSHIP: host-owned. LIFETIME: the struct is borrowed for the call; `host` stays valid until
 * shutdown returns. THREADS: init is called once, on one thread, before any other hook. */
typedef struct petit_init_args {
  uint32_t struct_size;
  uint32_t host_abi_major;
  uint32_t host_abi_minor;
  uint32_t reserved; /* zero */
  const petit_host_services* host;
  petit_str host_version;
} petit_init_args;

/* What the plugin declares at the handshake. The host zero-filled it and set struct_size to its
 * own size before calling init; the plugin sets struct_size to its own size and fills the rest.
 * OWNERSHIP: the struct is host-owned (the host copies it when init returns); the task_types
 * array, the structs it points to and plugin_state are plugin-owned.
 * LIFETIME: what it points to must stay valid until shutdown returns.
 * THREADS: written by init on the init thread; immutable afterwards. */
typedef struct petit_plugin_descriptor {
  uint32_t struct_size;
  uint32_t task_type_count;
  const petit_task_type* const* task_types; /* task_type_count pointers */
  petit_plugin_state_ptr plugin_state;      /* passed to shutdown; may be NULL */

  /* Optional. Releases everything init set up: plugin_state, the task types and their
   * type_state.
   * OWNERSHIP: the plugin frees plugin_state and whatever else it owns; nothing of the host's is
   * freed. LIFETIME: called once, only if init returned PETIT_OK (even when the host then refused
   * the descriptor), after every instance has been destroyed; no hook of the plugin runs after it
   * and the host unloads the library next. Host services may still be called during it (log with
   * a NULL ctx).
   * THREADS: one host thread, with no other hook of this plugin running. */
  void (*shutdown)(petit_plugin_state_ptr plugin_state);
} petit_plugin_descriptor;

/* The two entry points, as the host resolves them with dlsym. */

/* Returns the plugin's ABI block. Must be pure: return a pointer to a static block and do nothing
 * else (no allocation, no threads, no logging), because the host has not yet decided to trust the
 * library.
 * OWNERSHIP: the block is plugin-owned (static). LIFETIME: valid while the library is loaded.
 * THREADS: any thread, any number of times, before init or after. */
typedef const petit_abi_info* (*petit_plugin_abi_info_fn)(void);

/* The handshake. Returns PETIT_OK to accept and fills *out_descriptor. Anything else refuses: the
 * plugin writes a NUL-terminated reason of at most error_size bytes into error, and the host
 * reports it and carries on without the library (calling no other hook, shutdown included).
 * OWNERSHIP: args, *args and error are host-owned and borrowed; args->host is host-owned.
 * out_descriptor is host-owned; what the plugin stores in it is plugin-owned.
 * LIFETIME: args, out_descriptor and error are valid during the call only; args->host until
 * shutdown returns.
 * THREADS: called once per load, on one thread, before any other hook but petit_plugin_abi_info. */
typedef int32_t (*petit_plugin_init_fn)(const petit_init_args* args,
                                        petit_plugin_descriptor* out_descriptor, char* error,
                                        size_t error_size);

#define PETIT_PLUGIN_ABI_INFO_SYMBOL "petit_plugin_abi_info"
#define PETIT_PLUGIN_INIT_SYMBOL "petit_plugin_init"

/* The entry points every plugin defines, with the contracts of petit_plugin_abi_info_fn and
 * petit_plugin_init_fn above (since 1.1; 1.0 plugins declared them themselves). Declared here,
 * with default visibility, so a plugin only writes the definitions, and a definition whose
 * signature differs fails to compile. The C++ SDK's PETIT_PLUGIN defines both. */
PETIT_PLUGIN_EXPORT const petit_abi_info* petit_plugin_abi_info(void);
PETIT_PLUGIN_EXPORT int32_t petit_plugin_init(const petit_init_args* args,
                                              petit_plugin_descriptor* out_descriptor, char* error,
                                              size_t error_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PETIT_PLUGIN_H_ */
