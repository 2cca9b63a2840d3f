/*
 * hello_c: a Petit plugin in plain C99, against petit/plugin.h alone.
 *
 * Task type hello_c.greet: params {"name": "..."} (default "world"). Writes "hello, <name>\n" to
 * the task's captured stdout and records the output `greeting` = "hello, <name>".
 *
 * The params are read with a small scanner that understands just enough JSON to find one string
 * member of the top-level object; a real plugin would use a JSON library.
 */
#include <stdlib.h>
#include <string.h>

#include "petit/plugin.h"

static const petit_host_services* g_host; /* set once by init, before any other hook runs */

typedef struct greet_task {
  size_t size;
  char text[]; /* "hello, <name>", NUL-terminated */
} greet_task;

static petit_str str_of(const char* text, size_t size) {
  petit_str s;
  s.data = text;
  s.size = size;
  return s;
}

static petit_str cstr(const char* text) { return str_of(text, strlen(text)); }

typedef struct scanner {
  const char* p;
  const char* end;
} scanner;

static void skip_ws(scanner* s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
    ++s->p;
  }
}

/* Reads a JSON string into out (when not NULL, at most out_cap - 1 bytes plus NUL). Handles the
 * simple escapes; \u escapes are refused. Returns the decoded length, or -1 on bad input. */
static long read_string(scanner* s, char* out, size_t out_cap) {
  size_t n = 0;
  if (s->p >= s->end || *s->p != '"') return -1;
  ++s->p;
  while (s->p < s->end && *s->p != '"') {
    char c = *s->p++;
    if (c == '\\') {
      if (s->p >= s->end) return -1;
      c = *s->p++;
      switch (c) {
        case '"':
        case '\\':
        case '/':
          break;
        case 'n':
          c = '\n';
          break;
        case 't':
          c = '\t';
          break;
        case 'r':
          c = '\r';
          break;
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        default:
          return -1;
      }
    }
    if (out != NULL) {
      if (n + 1 >= out_cap) return -1;
      out[n] = c;
    }
    ++n;
  }
  if (s->p >= s->end) return -1;
  ++s->p;
  if (out != NULL) out[n] = '\0';
  return (long)n;
}

/* Skips any JSON value: strings, and everything else up to the next ',' or '}' at this depth. */
static int skip_value(scanner* s) {
  int depth = 0;
  skip_ws(s);
  while (s->p < s->end) {
    char c = *s->p;
    if (c == '"') {
      if (read_string(s, NULL, 0) < 0) return -1;
      continue;
    }
    if (depth == 0 && (c == ',' || c == '}')) return 0;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ++s->p;
  }
  return -1;
}

/* Finds params["name"] in a flat object. Returns 1 and fills name (NUL-terminated), 0 when
 * absent, -1 when the params are not what this scanner understands. */
static int find_name(petit_str params, char* name, size_t name_cap) {
  scanner s;
  s.p = params.data;
  s.end = params.data + params.size;
  skip_ws(&s);
  if (s.p == s.end) return 0;
  if (*s.p++ != '{') return -1;
  for (;;) {
    char key[64];
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') return 0;
    if (read_string(&s, key, sizeof key) < 0) return -1;
    skip_ws(&s);
    if (s.p >= s.end || *s.p++ != ':') return -1;
    skip_ws(&s);
    if (strcmp(key, "name") == 0) return read_string(&s, name, name_cap) < 0 ? -1 : 1;
    if (skip_value(&s) < 0) return -1;
    if (*s.p == '}') return 0;
    ++s.p; /* ',' */
  }
}

static int32_t greet_create(petit_type_state_ptr type_state, const petit_task_info* info,
                            petit_exec_ctx* ctx, petit_task_instance_ptr* out_instance) {
  static const char kPrefix[] = "hello, ";
  char name[256] = "world";
  greet_task* task;
  size_t size;
  (void)type_state;
  if (find_name(info->params_json, name, sizeof name) < 0) {
    g_host->set_error(ctx, cstr("params: 'name' must be a string of at most 255 bytes "
                                "without \\u escapes"));
    return PETIT_INVALID_PARAMS;
  }
  size = strlen(kPrefix) + strlen(name);
  task = (greet_task*)malloc(sizeof(greet_task) + size + 1);
  if (task == NULL) {
    g_host->set_error(ctx, cstr("out of memory"));
    return PETIT_ERROR_TRANSIENT;
  }
  task->size = size;
  memcpy(task->text, kPrefix, strlen(kPrefix));
  memcpy(task->text + strlen(kPrefix), name, strlen(name) + 1);
  *out_instance = task;
  return PETIT_OK;
}

static int32_t greet_execute(petit_task_instance_ptr instance, petit_exec_ctx* ctx) {
  const greet_task* task = (const greet_task*)instance;
  g_host->emit_output(ctx, PETIT_STREAM_STDOUT, str_of(task->text, task->size));
  g_host->emit_output(ctx, PETIT_STREAM_STDOUT, cstr("\n"));
  if (g_host->set_output(ctx, cstr("greeting"), str_of(task->text, task->size)) != PETIT_OK) {
    g_host->set_error(ctx, cstr("the host refused the output 'greeting'"));
    return PETIT_ERROR;
  }
  return PETIT_OK;
}

static void greet_destroy(petit_task_instance_ptr instance) { free(instance); }

static const petit_task_type kGreet = {
    sizeof(petit_task_type),
    PETIT_TASK_IDEMPOTENT,
    "hello_c.greet",
    "Writes \"hello, <name>\" to stdout and records it as the output `greeting`",
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"default\":\"world\"}},"
    "\"additionalProperties\":false}",
    NULL,
    greet_create,
    greet_execute,
    NULL, /* not cancellable: execute returns at once */
    greet_destroy,
};

static const petit_task_type* const kTypes[] = {&kGreet};

/* The two entry points plugin.h declares (exported, C linkage): only their definitions here. */
PETIT_PLUGIN_EXPORT const petit_abi_info* petit_plugin_abi_info(void) {
  static const petit_abi_info kInfo = {sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,
                                       PETIT_ABI_MINOR,        "hello_c",       "1.0.0"};
  return &kInfo;
}

PETIT_PLUGIN_EXPORT int32_t petit_plugin_init(const petit_init_args* args,
                                              petit_plugin_descriptor* out_descriptor, char* error,
                                              size_t error_size) {
  /* Refuse a host whose services table predates the last function this plugin calls. */
  if (args->host == NULL ||
      args->host->struct_size < offsetof(petit_host_services, set_exit_code) + sizeof(void*)) {
    static const char kReason[] = "hello_c needs the ABI 1.0 host services table";
    if (error_size > 0) {
      size_t n = sizeof kReason < error_size ? sizeof kReason : error_size;
      memcpy(error, kReason, n);
      error[n - 1] = '\0';
    }
    return PETIT_ERROR;
  }
  g_host = args->host;
  out_descriptor->struct_size = sizeof(petit_plugin_descriptor);
  out_descriptor->task_type_count = 1;
  out_descriptor->task_types = kTypes;
  out_descriptor->plugin_state = NULL;
  out_descriptor->shutdown = NULL;
  return PETIT_OK;
}
