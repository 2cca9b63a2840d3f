// Pins the ABI layout and constants as C++ sees them (abi_layout_c99.c pins the same layout for
// C). The layout is 1.0's plus 1.2's set_process, appended to petit_host_services (1.1 added no
// field). A failure here means the ABI changed: bump the major, or append the field at the end of
// its struct marked "since 1.N".
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include <gtest/gtest.h>

#include "petit/plugin.h"

namespace {

#if defined(__LP64__) || defined(_LP64)
static_assert(sizeof(petit_str) == 16);
static_assert(offsetof(petit_str, data) == 0);
static_assert(offsetof(petit_str, size) == 8);

static_assert(sizeof(petit_abi_info) == 32);
static_assert(offsetof(petit_abi_info, struct_size) == 0);
static_assert(offsetof(petit_abi_info, magic) == 4);
static_assert(offsetof(petit_abi_info, abi_major) == 8);
static_assert(offsetof(petit_abi_info, abi_minor) == 12);
static_assert(offsetof(petit_abi_info, plugin_name) == 16);
static_assert(offsetof(petit_abi_info, plugin_version) == 24);

static_assert(sizeof(petit_host_services) == 88);  // 80 until 1.1
static_assert(offsetof(petit_host_services, struct_size) == 0);
static_assert(offsetof(petit_host_services, reserved) == 4);
static_assert(offsetof(petit_host_services, log) == 8);
static_assert(offsetof(petit_host_services, get_input) == 16);
static_assert(offsetof(petit_host_services, set_output) == 24);
static_assert(offsetof(petit_host_services, get_config) == 32);
static_assert(offsetof(petit_host_services, is_cancelled) == 40);
static_assert(offsetof(petit_host_services, report_progress) == 48);
static_assert(offsetof(petit_host_services, set_error) == 56);
static_assert(offsetof(petit_host_services, emit_output) == 64);
static_assert(offsetof(petit_host_services, set_exit_code) == 72);
static_assert(offsetof(petit_host_services, set_process) == 80);  // since 1.2

static_assert(sizeof(petit_task_info) == 80);
static_assert(offsetof(petit_task_info, struct_size) == 0);
static_assert(offsetof(petit_task_info, attempt) == 4);
static_assert(offsetof(petit_task_info, job_id) == 8);
static_assert(offsetof(petit_task_info, run_id) == 24);
static_assert(offsetof(petit_task_info, task_id) == 40);
static_assert(offsetof(petit_task_info, params_json) == 56);
static_assert(offsetof(petit_task_info, timeout_ms) == 72);

static_assert(sizeof(petit_task_type) == 72);
static_assert(offsetof(petit_task_type, struct_size) == 0);
static_assert(offsetof(petit_task_type, flags) == 4);
static_assert(offsetof(petit_task_type, name) == 8);
static_assert(offsetof(petit_task_type, summary) == 16);
static_assert(offsetof(petit_task_type, params_schema_json) == 24);
static_assert(offsetof(petit_task_type, type_state) == 32);
static_assert(offsetof(petit_task_type, create) == 40);
static_assert(offsetof(petit_task_type, execute) == 48);
static_assert(offsetof(petit_task_type, cancel) == 56);
static_assert(offsetof(petit_task_type, destroy) == 64);

static_assert(sizeof(petit_init_args) == 40);
static_assert(offsetof(petit_init_args, struct_size) == 0);
static_assert(offsetof(petit_init_args, host_abi_major) == 4);
static_assert(offsetof(petit_init_args, host_abi_minor) == 8);
static_assert(offsetof(petit_init_args, reserved) == 12);
static_assert(offsetof(petit_init_args, host) == 16);
static_assert(offsetof(petit_init_args, host_version) == 24);

static_assert(sizeof(petit_plugin_descriptor) == 32);
static_assert(offsetof(petit_plugin_descriptor, struct_size) == 0);
static_assert(offsetof(petit_plugin_descriptor, task_type_count) == 4);
static_assert(offsetof(petit_plugin_descriptor, task_types) == 8);
static_assert(offsetof(petit_plugin_descriptor, plugin_state) == 16);
static_assert(offsetof(petit_plugin_descriptor, shutdown) == 24);
#endif

// Every struct that crosses the boundary starts with its size, and is plain C data.
static_assert(offsetof(petit_abi_info, struct_size) == 0);
static_assert(std::is_trivial_v<petit_str> && std::is_standard_layout_v<petit_str>);
static_assert(std::is_trivial_v<petit_abi_info> && std::is_standard_layout_v<petit_abi_info>);
static_assert(std::is_trivial_v<petit_host_services> &&
              std::is_standard_layout_v<petit_host_services>);
static_assert(std::is_trivial_v<petit_task_info> && std::is_standard_layout_v<petit_task_info>);
static_assert(std::is_trivial_v<petit_task_type> && std::is_standard_layout_v<petit_task_type>);
static_assert(std::is_trivial_v<petit_init_args> && std::is_standard_layout_v<petit_init_args>);
static_assert(std::is_trivial_v<petit_plugin_descriptor> &&
              std::is_standard_layout_v<petit_plugin_descriptor>);

// The 1.1 handle names are the 1.0 types themselves, so every hook keeps 1.0's exact signature and
// calling convention, and a 1.0 binary passes and receives the same pointers.
static_assert(std::is_same_v<petit_task_instance_ptr, void*>);
static_assert(std::is_same_v<petit_type_state_ptr, void*>);
static_assert(std::is_same_v<petit_plugin_state_ptr, void*>);
static_assert(std::is_same_v<decltype(petit_task_type::type_state), void*>);
static_assert(std::is_same_v<decltype(petit_task_type::create),
                             int32_t (*)(void*, const petit_task_info*, petit_exec_ctx*, void**)>);
static_assert(
    std::is_same_v<decltype(petit_task_type::execute), int32_t (*)(void*, petit_exec_ctx*)>);
static_assert(std::is_same_v<decltype(petit_task_type::cancel), void (*)(void*)>);
static_assert(std::is_same_v<decltype(petit_task_type::destroy), void (*)(void*)>);
static_assert(std::is_same_v<decltype(petit_plugin_descriptor::plugin_state), void*>);
static_assert(std::is_same_v<decltype(petit_plugin_descriptor::shutdown), void (*)(void*)>);

// The declared entry points have exactly the types the host resolves them as.
static_assert(std::is_same_v<decltype(&petit_plugin_abi_info), petit_plugin_abi_info_fn>);
static_assert(std::is_same_v<decltype(&petit_plugin_init), petit_plugin_init_fn>);

TEST(AbiConstantsTest, VersionIsOneTwo) {
  EXPECT_EQ(PETIT_ABI_MAJOR, 1);
  EXPECT_EQ(PETIT_ABI_MINOR, 2);
}

TEST(AbiConstantsTest, MagicReadsPtitInMemoryOnLittleEndian) {
  const uint32_t magic = PETIT_ABI_MAGIC;
  char bytes[4];
  std::memcpy(bytes, &magic, sizeof bytes);
  const uint32_t probe = 1;
  char first = 0;
  std::memcpy(&first, &probe, 1);
  if (first != 1) GTEST_SKIP() << "big-endian machine";
  EXPECT_EQ(std::string_view(bytes, 4), "PTIT");
}

TEST(AbiConstantsTest, StatusCodesArePinned) {
  EXPECT_EQ(PETIT_OK, 0);
  EXPECT_EQ(PETIT_ERROR, 1);
  EXPECT_EQ(PETIT_ERROR_TRANSIENT, 2);
  EXPECT_EQ(PETIT_CANCELLED, 3);
  EXPECT_EQ(PETIT_TIMED_OUT, 4);
  EXPECT_EQ(PETIT_INVALID_PARAMS, 5);
}

TEST(AbiConstantsTest, LogLevelsStreamsAndFlagsArePinned) {
  EXPECT_EQ(PETIT_LOG_DEBUG, 0);
  EXPECT_EQ(PETIT_LOG_INFO, 1);
  EXPECT_EQ(PETIT_LOG_WARN, 2);
  EXPECT_EQ(PETIT_LOG_ERROR, 3);
  EXPECT_EQ(PETIT_STREAM_STDOUT, 1);
  EXPECT_EQ(PETIT_STREAM_STDERR, 2);
  EXPECT_EQ(PETIT_TASK_CANCELLABLE, 1u);
  EXPECT_EQ(PETIT_TASK_SERIAL, 2u);
  EXPECT_EQ(PETIT_TASK_IDEMPOTENT, 4u);
}

TEST(AbiConstantsTest, EntryPointNamesArePinned) {
  EXPECT_STREQ(PETIT_PLUGIN_ABI_INFO_SYMBOL, "petit_plugin_abi_info");
  EXPECT_STREQ(PETIT_PLUGIN_INIT_SYMBOL, "petit_plugin_init");
}

}  // namespace
