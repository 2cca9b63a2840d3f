#include "plugins/host_services.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>

#include "plugins/exec_ctx.h"

namespace petit::host {
namespace {

// A view a plugin handed over; a NULL data pointer is only valid with size 0, and a plugin that
// breaks that rule gets an empty view rather than a crash inside the host.
std::string_view View(petit_str s) {
  if (s.data == nullptr) return {};
  return {s.data, s.size};
}

petit_str Str(std::string_view s) { return {s.data(), s.size()}; }

LogLevel ToLogLevel(int32_t level) {
  if (level <= PETIT_LOG_DEBUG) return LogLevel::kDebug;
  if (level == PETIT_LOG_INFO) return LogLevel::kInfo;
  if (level == PETIT_LOG_WARN) return LogLevel::kWarn;
  return LogLevel::kError;
}

void StderrSink(LogLevel level, std::string_view message) {
  const std::string_view name = LogLevelName(level);
  std::fprintf(stderr, "petit: plugin: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(message.size()), message.data());
}

std::atomic<PluginLogSink> g_log_sink{&StderrSink};

// No C++ exception may unwind into plugin frames (plugin.h); a throwing AttemptControl (out of
// memory, most likely) turns into the service's failure value instead.
template <typename F, typename R>
R NoThrow(F&& f, R on_exception) noexcept {
  try {
    return f();
  } catch (...) {
    return on_exception;
  }
}

template <typename F>
void NoThrow(F&& f) noexcept {
  try {
    f();
  } catch (...) {
  }
}

void Log(petit_exec_ctx* ctx, int32_t level, petit_str message) {
  NoThrow([&] {
    if (ctx == nullptr) {
      g_log_sink.load(std::memory_order_acquire)(ToLogLevel(level), View(message));
      return;
    }
    ctx->control().Log(ToLogLevel(level), View(message));
  });
}

int32_t GetInput(petit_exec_ctx* ctx, petit_str key, petit_str* out_value) {
  if (ctx == nullptr || out_value == nullptr) return 0;
  const auto& inputs = ctx->request().inputs;
  if (inputs == nullptr) return 0;
  const std::optional<std::string_view> value = inputs->Get(View(key));
  if (!value) return 0;
  *out_value = Str(*value);
  return 1;
}

int32_t GetConfig(petit_exec_ctx* ctx, petit_str key, petit_str* out_value) {
  if (ctx == nullptr || out_value == nullptr) return 0;
  const auto& config = ctx->request().config;
  if (config == nullptr) return 0;
  const auto it = config->find(View(key));
  if (it == config->end()) return 0;
  *out_value = Str(it->second);
  return 1;
}

int32_t SetOutput(petit_exec_ctx* ctx, petit_str key, petit_str value) {
  if (ctx == nullptr || key.size == 0 || ctx->over()) return PETIT_ERROR;
  return NoThrow(
      [&]() -> int32_t {
        const Status status = ctx->control().SetOutput(View(key), View(value));
        if (status.ok()) return PETIT_OK;
        // The plugin only sees PETIT_ERROR; the reason goes to the attempt's log.
        ctx->control().Log(LogLevel::kWarn, "task type '" + std::string(ctx->type_name()) +
                                                "': set_output refused: " + status.message());
        return PETIT_ERROR;
      },
      int32_t{PETIT_ERROR});
}

int32_t IsCancelled(petit_exec_ctx* ctx) {
  if (ctx == nullptr) return 0;
  return ctx->control().cancelled() ? 1 : 0;
}

void ReportProgress(petit_exec_ctx* ctx, double fraction, petit_str message) {
  if (ctx == nullptr) return;
  if (std::isnan(fraction)) fraction = 0.0;
  fraction = fraction < 0.0 ? 0.0 : (fraction > 1.0 ? 1.0 : fraction);
  NoThrow([&] { ctx->control().ReportProgress(fraction, View(message)); });
}

void SetError(petit_exec_ctx* ctx, petit_str message) {
  if (ctx == nullptr) return;
  NoThrow([&] { ctx->SetError(View(message)); });
}

void EmitOutput(petit_exec_ctx* ctx, int32_t stream, petit_str data) {
  if (ctx == nullptr) return;
  NoThrow([&] {
    if (stream == PETIT_STREAM_STDOUT) {
      ctx->control().AppendOutput(OutputStream::kStdout, View(data));
      return;
    }
    if (stream != PETIT_STREAM_STDERR) {
      ctx->control().Log(LogLevel::kWarn, "task type '" + std::string(ctx->type_name()) +
                                              "' wrote to unknown stream " +
                                              std::to_string(stream) + "; kept as stderr");
    }
    ctx->control().AppendOutput(OutputStream::kStderr, View(data));
  });
}

void SetExitCode(petit_exec_ctx* ctx, int32_t exit_code) {
  if (ctx == nullptr) return;
  ctx->SetExitCode(exit_code);
}

void SetProcess(petit_exec_ctx* ctx, int64_t pid, int64_t process_group, uint64_t start_ticks) {
  // A pid or group of 0 or below would address a whole group or every process at recovery.
  if (ctx == nullptr || pid <= 0 || process_group <= 0) return;
  NoThrow([&] { ctx->NoteProcess(pid, process_group, start_ticks); });
}

constexpr petit_host_services kHostServices = {
    .struct_size = sizeof(petit_host_services),
    .reserved = 0,
    .log = &Log,
    .get_input = &GetInput,
    .set_output = &SetOutput,
    .get_config = &GetConfig,
    .is_cancelled = &IsCancelled,
    .report_progress = &ReportProgress,
    .set_error = &SetError,
    .emit_output = &EmitOutput,
    .set_exit_code = &SetExitCode,
    .set_process = &SetProcess,
};

}  // namespace

const petit_host_services& HostServices() { return kHostServices; }

PluginLogSink SetPluginLogSink(PluginLogSink sink) {
  return g_log_sink.exchange(sink == nullptr ? &StderrSink : sink, std::memory_order_acq_rel);
}

}  // namespace petit::host
