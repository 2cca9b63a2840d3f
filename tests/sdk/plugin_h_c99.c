/* Compiled by the CTest test sdk_plugin_h_compiles_as_c99 with -std=c99 -pedantic -Werror: the
 * ABI header must be plain C99, and every declaration in it usable from C. */
#include "petit/plugin.h"

int32_t petit_c99_uses_every_declaration(const petit_init_args* args,
                                         petit_plugin_descriptor* descriptor);

int32_t petit_c99_uses_every_declaration(const petit_init_args* args,
                                         petit_plugin_descriptor* descriptor) {
  const petit_host_services* host = args->host;
  petit_str key = {"k", 1};
  petit_str value = {0, 0};
  petit_task_info info = {0};
  petit_abi_info abi = {sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,
                        PETIT_ABI_MINOR,        "c99",           "1"};
  petit_plugin_abi_info_fn abi_fn = 0;
  petit_plugin_init_fn init_fn = 0;
  const char* names[2] = {PETIT_PLUGIN_ABI_INFO_SYMBOL, PETIT_PLUGIN_INIT_SYMBOL};
  petit_task_type type = {sizeof(petit_task_type), 0, "t", "s", 0, 0, 0, 0, 0, 0};
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
  type.flags = flags;
  host->log(0, PETIT_LOG_INFO, key);
  if (host->get_input(0, key, &value) == 1) host->set_output(0, key, value);
  host->get_config(0, key, &value);
  host->report_progress(0, 0.5, key);
  host->set_error(0, key);
  host->emit_output(0, PETIT_STREAM_STDOUT, key);
  host->set_exit_code(0, 0);
  descriptor->task_type_count = (uint32_t)type.struct_size;
  return host->is_cancelled(0) + codes + levels + streams;
}
