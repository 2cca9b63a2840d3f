/* Compiled by the CTest test sdk_plugin_h_compiles_as_c99 with -std=c99 -pedantic -Werror: the
 * ABI header must be plain C99, and every declaration in it usable from C. */
#include "petit/plugin.h"

int32_t petit_c99_uses_every_declaration(const petit_init_args* args,
                                         petit_plugin_descriptor* descriptor);

/* Hooks written the ABI 1.0 way, with plain void*: 1.0 sources must still compile, since the 1.1
 * handle names are the same types. */
static int32_t Create10(void* type_state, const petit_task_info* info, petit_exec_ctx* ctx,
                        void** out_instance) {
  (void)type_state;
  (void)info;
  (void)ctx;
  *out_instance = 0;
  return PETIT_OK;
}
static int32_t Execute10(void* instance, petit_exec_ctx* ctx) {
  (void)instance;
  (void)ctx;
  return PETIT_OK;
}
static void Cancel10(void* instance) { (void)instance; }
static void Destroy10(void* instance) { (void)instance; }
static void Shutdown10(void* plugin_state) { (void)plugin_state; }

/* The same hooks written with the 1.1 handle names. */
static int32_t Create11(petit_type_state_ptr type_state, const petit_task_info* info,
                        petit_exec_ctx* ctx, petit_task_instance_ptr* out_instance) {
  return Create10(type_state, info, ctx, out_instance);
}
static int32_t Execute11(petit_task_instance_ptr instance, petit_exec_ctx* ctx) {
  return Execute10(instance, ctx);
}
static void Cancel11(petit_task_instance_ptr instance) { Cancel10(instance); }
static void Destroy11(petit_task_instance_ptr instance) { Destroy10(instance); }
static void Shutdown11(petit_plugin_state_ptr plugin_state) { Shutdown10(plugin_state); }

int32_t petit_c99_uses_every_declaration(const petit_init_args* args,
                                         petit_plugin_descriptor* descriptor) {
  const petit_host_services* host = args->host;
  petit_str key = {"k", 1};
  petit_str value = {0, 0};
  petit_task_info info = {0};
  petit_abi_info abi = {sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,
                        PETIT_ABI_MINOR,        "c99",           "1"};
  petit_plugin_abi_info_fn abi_fn = &petit_plugin_abi_info;
  petit_plugin_init_fn init_fn = &petit_plugin_init;
  const char* names[2] = {PETIT_PLUGIN_ABI_INFO_SYMBOL, PETIT_PLUGIN_INIT_SYMBOL};
  petit_task_type type = {sizeof(petit_task_type), 0, "t", "s", 0, 0, 0, 0, 0, 0};
  petit_task_type type10 = {
      sizeof(petit_task_type), 0, "t10", "s", 0, 0, Create10, Execute10, Cancel10, Destroy10};
  petit_task_type type11 = {
      sizeof(petit_task_type), 0, "t11", "s", 0, 0, Create11, Execute11, Cancel11, Destroy11};
  petit_task_instance_ptr instance = 0;
  petit_type_state_ptr type_state = 0;
  petit_plugin_state_ptr plugin_state = 0;
  uint32_t flags = PETIT_TASK_CANCELLABLE | PETIT_TASK_SERIAL | PETIT_TASK_IDEMPOTENT;
  int32_t codes = PETIT_OK + PETIT_ERROR + PETIT_ERROR_TRANSIENT + PETIT_CANCELLED +
                  PETIT_TIMED_OUT + PETIT_INVALID_PARAMS;
  int32_t levels = PETIT_LOG_DEBUG + PETIT_LOG_INFO + PETIT_LOG_WARN + PETIT_LOG_ERROR;
  int32_t streams = PETIT_STREAM_STDOUT + PETIT_STREAM_STDERR;
  (void)abi_fn;
  (void)init_fn;
  (void)names;
  (void)abi;
  (void)info;
  (void)instance;
  (void)type_state;
  (void)plugin_state;
  (void)type10;
  (void)type11;
  type.flags = flags;
  host->log(0, PETIT_LOG_INFO, key);
  if (host->get_input(0, key, &value) == 1) host->set_output(0, key, value);
  host->get_config(0, key, &value);
  host->report_progress(0, 0.5, key);
  host->set_error(0, key);
  host->emit_output(0, PETIT_STREAM_STDOUT, key);
  host->set_exit_code(0, 0);
  descriptor->task_type_count = (uint32_t)type.struct_size;
  descriptor->shutdown = Shutdown10;
  descriptor->shutdown = Shutdown11;
  return host->is_cancelled(0) + codes + levels + streams;
}

/* The 1.0 spelling of the export macro still works. */
PETIT_EXPORT int petit_c99_export_macro_1_0(void);
PETIT_PLUGIN_EXPORT int petit_c99_export_macro_1_1(void);
