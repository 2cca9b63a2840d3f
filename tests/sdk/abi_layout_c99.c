/* Pins the layout of every ABI struct on LP64, in C99 (compiled by the CTest test
 * sdk_plugin_h_compiles_as_c99; abi_layout_test.cc pins the same numbers for C++). A negative
 * array size is C99's static assertion. If one of these fails, the ABI changed: that needs a
 * major version bump, or the new field belongs at the end of its struct with a "since 1.N". */
#include <stddef.h>

#include "petit/plugin.h"

#define PETIT_PIN(name, condition) typedef char petit_pin_##name[(condition) ? 1 : -1]

#if defined(__LP64__) || defined(_LP64)

PETIT_PIN(str_size, sizeof(petit_str) == 16);
PETIT_PIN(str_data, offsetof(petit_str, data) == 0);
PETIT_PIN(str_len, offsetof(petit_str, size) == 8);

PETIT_PIN(abi_info_size, sizeof(petit_abi_info) == 32);
PETIT_PIN(abi_info_struct_size, offsetof(petit_abi_info, struct_size) == 0);
PETIT_PIN(abi_info_magic, offsetof(petit_abi_info, magic) == 4);
PETIT_PIN(abi_info_major, offsetof(petit_abi_info, abi_major) == 8);
PETIT_PIN(abi_info_minor, offsetof(petit_abi_info, abi_minor) == 12);
PETIT_PIN(abi_info_name, offsetof(petit_abi_info, plugin_name) == 16);
PETIT_PIN(abi_info_version, offsetof(petit_abi_info, plugin_version) == 24);

PETIT_PIN(host_size, sizeof(petit_host_services) == 88);
PETIT_PIN(host_struct_size, offsetof(petit_host_services, struct_size) == 0);
PETIT_PIN(host_reserved, offsetof(petit_host_services, reserved) == 4);
PETIT_PIN(host_log, offsetof(petit_host_services, log) == 8);
PETIT_PIN(host_get_input, offsetof(petit_host_services, get_input) == 16);
PETIT_PIN(host_set_output, offsetof(petit_host_services, set_output) == 24);
PETIT_PIN(host_get_config, offsetof(petit_host_services, get_config) == 32);
PETIT_PIN(host_is_cancelled, offsetof(petit_host_services, is_cancelled) == 40);
PETIT_PIN(host_report_progress, offsetof(petit_host_services, report_progress) == 48);
PETIT_PIN(host_set_error, offsetof(petit_host_services, set_error) == 56);
PETIT_PIN(host_emit_output, offsetof(petit_host_services, emit_output) == 64);
PETIT_PIN(host_set_exit_code, offsetof(petit_host_services, set_exit_code) == 72);
PETIT_PIN(host_set_process, offsetof(petit_host_services, set_process) == 80);

PETIT_PIN(info_size, sizeof(petit_task_info) == 80);
PETIT_PIN(info_struct_size, offsetof(petit_task_info, struct_size) == 0);
PETIT_PIN(info_attempt, offsetof(petit_task_info, attempt) == 4);
PETIT_PIN(info_job_id, offsetof(petit_task_info, job_id) == 8);
PETIT_PIN(info_run_id, offsetof(petit_task_info, run_id) == 24);
PETIT_PIN(info_task_id, offsetof(petit_task_info, task_id) == 40);
PETIT_PIN(info_params_json, offsetof(petit_task_info, params_json) == 56);
PETIT_PIN(info_timeout_ms, offsetof(petit_task_info, timeout_ms) == 72);

PETIT_PIN(type_size, sizeof(petit_task_type) == 72);
PETIT_PIN(type_struct_size, offsetof(petit_task_type, struct_size) == 0);
PETIT_PIN(type_flags, offsetof(petit_task_type, flags) == 4);
PETIT_PIN(type_name, offsetof(petit_task_type, name) == 8);
PETIT_PIN(type_summary, offsetof(petit_task_type, summary) == 16);
PETIT_PIN(type_schema, offsetof(petit_task_type, params_schema_json) == 24);
PETIT_PIN(type_state, offsetof(petit_task_type, type_state) == 32);
PETIT_PIN(type_create, offsetof(petit_task_type, create) == 40);
PETIT_PIN(type_execute, offsetof(petit_task_type, execute) == 48);
PETIT_PIN(type_cancel, offsetof(petit_task_type, cancel) == 56);
PETIT_PIN(type_destroy, offsetof(petit_task_type, destroy) == 64);

PETIT_PIN(init_size, sizeof(petit_init_args) == 40);
PETIT_PIN(init_struct_size, offsetof(petit_init_args, struct_size) == 0);
PETIT_PIN(init_major, offsetof(petit_init_args, host_abi_major) == 4);
PETIT_PIN(init_minor, offsetof(petit_init_args, host_abi_minor) == 8);
PETIT_PIN(init_reserved, offsetof(petit_init_args, reserved) == 12);
PETIT_PIN(init_host, offsetof(petit_init_args, host) == 16);
PETIT_PIN(init_host_version, offsetof(petit_init_args, host_version) == 24);

PETIT_PIN(descriptor_size, sizeof(petit_plugin_descriptor) == 32);
PETIT_PIN(descriptor_struct_size, offsetof(petit_plugin_descriptor, struct_size) == 0);
PETIT_PIN(descriptor_count, offsetof(petit_plugin_descriptor, task_type_count) == 4);
PETIT_PIN(descriptor_types, offsetof(petit_plugin_descriptor, task_types) == 8);
PETIT_PIN(descriptor_state, offsetof(petit_plugin_descriptor, plugin_state) == 16);
PETIT_PIN(descriptor_shutdown, offsetof(petit_plugin_descriptor, shutdown) == 24);

#endif

/* ISO C forbids an empty translation unit. */
typedef int petit_abi_layout_c99_nonempty;
