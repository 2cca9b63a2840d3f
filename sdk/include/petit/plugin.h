/*
 * petit/plugin.h: the C ABI between the Petit host and task-type plugins (ABI 1.0).
 *
 * A plugin is a shared library that exports exactly two functions:
 *
 *   const petit_abi_info* petit_plugin_abi_info(void);     pure; the host calls it first
 *   int32_t petit_plugin_init(const petit_init_args*,      the handshake; may refuse
 *                             petit_plugin_descriptor*, char* error, size_t error_size);
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
 *
 * This header is C99 with <stddef.h> and <stdint.h> only; it compiles as C++ too.
 */
#ifndef PETIT_PLUGIN_H_
#define PETIT_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#define PETIT_ABI_MAJOR 1
#define PETIT_ABI_MINOR 0

/* "PTIT" read as a little-endian uint32_t: tells a Petit plugin from any other library that
 * happens to export a symbol of the same name. */
#define PETIT_ABI_MAGIC 0x54495450u

#if defined(__GNUC__) || defined(__clang__)
#define PETIT_EXPORT __attribute__((visibility("default")))
#else
#define PETIT_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by create and execute. Any other value is a plugin bug; the host reports
 * it as a failed attempt naming the value. */
#define PETIT_OK 0
#define PETIT_ERROR 1           /* the task failed; the retry policy decides what happens next */
#define PETIT_ERROR_TRANSIENT 2 /* failed for a reason that may pass (network, busy resource) */
#define PETIT_CANCELLED 3       /* stopped because cancel was called or is_cancelled said so */
#define PETIT_TIMED_OUT 4       /* stopped because the attempt's timeout_ms ran out */
#define PETIT_INVALID_PARAMS 5  /* create only: the parameters are wrong; never retried */

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
 * OWNERSHIP: never owned by the receiver. LIFETIME: as stated where the view is handed over. */
typedef struct petit_str {
  const char* data;
  size_t size;
} petit_str;

/* The block petit_plugin_abi_info() returns.
 * OWNERSHIP: plugin-owned, static. LIFETIME: as long as the library is loaded.
 * THREADS: immutable; read from any thread. */
typedef struct petit_abi_info {
  uint32_t struct_size;        /* sizeof(petit_abi_info) as the plugin was compiled */
  uint32_t magic;              /* PETIT_ABI_MAGIC */
  uint32_t abi_major;          /* PETIT_ABI_MAJOR the plugin was built against */
  uint32_t abi_minor;          /* PETIT_ABI_MINOR the plugin was built against */
  const char* plugin_name;     /* NUL-terminated, non-empty: [a-z0-9_.-]+ */
  const char* plugin_version;  /* NUL-terminated, free form ("1.2.0") */
} petit_abi_info;

/* One task attempt as the host sees it. Opaque to plugins; only passed back to host services.
 * OWNERSHIP: host-owned. LIFETIME: from create until destroy returns.
 * THREADS: host services accept it from any thread. */
typedef struct petit_exec_ctx petit_exec_ctx;

/* Services the host offers to plugins, handed over once in petit_init_args.
 * OWNERSHIP: host-owned. LIFETIME: valid until the plugin's shutdown hook returns (the host never
 * unloads a library while anything built from it exists).
 * THREADS: every function is thread-safe and may be called from threads the plugin starts, but
 * only while the petit_exec_ctx it names is alive (between create and destroy). */
typedef struct petit_host_services {
  uint32_t struct_size;
  uint32_t reserved; /* zero */

  /* Writes a line to the host's log, tagged with the attempt when ctx is not NULL. ctx may be
   * NULL (during init, for instance). message is copied before return. */
  void (*log)(petit_exec_ctx* ctx, int32_t level, petit_str message);

  /* Looks up an upstream output by its namespaced key "<task_id>.<key>". Returns 1 and fills
   * *out_value when found, 0 when not. *out_value stays valid until destroy returns. */
  int32_t (*get_input)(petit_exec_ctx* ctx, petit_str key, petit_str* out_value);

  /* Records an output of this attempt under "<this task's id>.<key>". It reaches downstream
   * tasks only if the attempt succeeds. key and value are copied before return. Returns
   * PETIT_OK, or PETIT_ERROR when the key is empty or the attempt is over. */
  int32_t (*set_output)(petit_exec_ctx* ctx, petit_str key, petit_str value);

  /* Looks up a job config value (scalars as their text, maps and lists as JSON). Returns 1 and
   * fills *out_value when found, 0 when not. *out_value stays valid until destroy returns. */
  int32_t (*get_config)(petit_exec_ctx* ctx, petit_str key, petit_str* out_value);

  /* Returns 1 once the attempt has been cancelled or has timed out, 0 otherwise. Cheap. */
  int32_t (*is_cancelled)(petit_exec_ctx* ctx);

  /* Reports progress in [0, 1] with an optional message (size 0 for none). Copied. */
  void (*report_progress)(petit_exec_ctx* ctx, double fraction, petit_str message);

  /* Sets the error message recorded with a non-OK status. The last call wins. Copied. */
  void (*set_error)(petit_exec_ctx* ctx, petit_str message);

  /* Appends bytes to the attempt's captured stdout or stderr (PETIT_STREAM_*). The host streams
   * them to storage and applies the configured cap; the plugin need not buffer. Copied. */
  void (*emit_output)(petit_exec_ctx* ctx, int32_t stream, petit_str data);

  /* Records the exit code of the process the attempt ran, if it ran one. Retry conditions on
   * exit codes and `petit runs` read it. The last call wins. */
  void (*set_exit_code)(petit_exec_ctx* ctx, int32_t exit_code);
} petit_host_services;

/* What create receives about the attempt.
 * OWNERSHIP: host-owned. LIFETIME: every view stays valid until destroy returns.
 * THREADS: immutable. */
typedef struct petit_task_info {
  uint32_t struct_size;
  uint32_t attempt;      /* 1 for the first attempt, 2 for the first retry, ... */
  petit_str job_id;
  petit_str run_id;
  petit_str task_id;
  petit_str params_json; /* the task's parameters: a JSON object, templates already expanded */
  int64_t timeout_ms;    /* per-attempt timeout, 0 for none; the host also calls cancel then */
} petit_task_info;

/* One task type. A plugin exports any number of them through its descriptor.
 * OWNERSHIP: plugin-owned (usually static). LIFETIME: until shutdown returns; the host copies it.
 * THREADS: create, execute and destroy run on host worker threads, several instances at once
 * unless PETIT_TASK_SERIAL is set; cancel may run on another thread while execute runs. */
typedef struct petit_task_type {
  uint32_t struct_size;
  uint32_t flags;                 /* PETIT_TASK_* */
  const char* name;               /* NUL-terminated, unique in the host: [a-z0-9_.-]+ */
  const char* summary;            /* NUL-terminated, one line */
  const char* params_schema_json; /* NUL-terminated JSON Schema of params_json, or NULL */
  void* type_state;               /* passed back to create unchanged; may be NULL */

  /* Builds an instance for one attempt. Returns PETIT_OK and sets *out_instance (may be NULL if
   * the type keeps no state), or a non-OK status after calling set_error. */
  int32_t (*create)(void* type_state, const petit_task_info* info, petit_exec_ctx* ctx,
                    void** out_instance);

  /* Runs the attempt to completion and returns a PETIT_* status. Blocks the calling worker. */
  int32_t (*execute)(void* instance, petit_exec_ctx* ctx);

  /* Optional (NULL when not cancellable). Asks a running execute to stop soon; must not block
   * for long and must be safe to call before execute starts or after it returns. */
  void (*cancel)(void* instance);

  /* Optional. Frees the instance; called once for every successful create, after execute. */
  void (*destroy)(void* instance);
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

/* What the plugin declares at the handshake. The host zero-fills it and sets struct_size to its
 * own size before calling init; the plugin sets struct_size to its own size and fills the rest.
 * OWNERSHIP: the task_types array and the structs it points to are plugin-owned.
 * LIFETIME: until shutdown returns. */
typedef struct petit_plugin_descriptor {
  uint32_t struct_size;
  uint32_t task_type_count;
  const petit_task_type* const* task_types; /* task_type_count pointers */
  void* plugin_state;                       /* passed to shutdown; may be NULL */
  void (*shutdown)(void* plugin_state);     /* optional; called once, before unload */
} petit_plugin_descriptor;

/* Entry points, as the host resolves them. */
typedef const petit_abi_info* (*petit_plugin_abi_info_fn)(void);

/* Returns PETIT_OK to accept. Anything else refuses: the plugin writes a NUL-terminated reason
 * of at most error_size bytes into error (host-owned), and the host reports it and carries on
 * without the library. */
typedef int32_t (*petit_plugin_init_fn)(const petit_init_args* args,
                                        petit_plugin_descriptor* out_descriptor, char* error,
                                        size_t error_size);

#define PETIT_PLUGIN_ABI_INFO_SYMBOL "petit_plugin_abi_info"
#define PETIT_PLUGIN_INIT_SYMBOL "petit_plugin_init"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* PETIT_PLUGIN_H_ */
