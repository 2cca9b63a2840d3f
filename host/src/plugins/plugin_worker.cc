#include "plugins/plugin_worker.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "petit/core/mutex.h"
#include "petit/core/thread_annotations.h"
#include "plugins/host_services.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_task_runner.h"
#include "plugins/worker_protocol.h"
#include "runtime/process_registry.h"
#include "runtime/thread_priority.h"

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace {

using internal::FrameType;
using internal::FrameWriter;
using internal::kWorkerSocketFd;

// Exit codes of a worker that never reached the plugin; the host reports them as such.
constexpr int kWorkerUsage = 2;
constexpr int kWorkerOrphaned = 3;

// "VmData:  1234 kB" and the like from /proc/self/status, in kB; 0 when absent.
uint64_t StatusKb(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

// The AttemptControl the plugin sees in the worker: every call becomes a frame to the host, and
// the host's kCancel arrives through Cancel(). set_output's key is checked here, with the same
// rule the host applies, so the plugin gets its answer without a round trip.
class RemoteAttemptControl final : public AttemptControl {
 public:
  explicit RemoteAttemptControl(int fd) : fd_(fd) {}

  Status SetOutput(std::string_view key, std::string_view value) override {
    PETIT_RETURN_IF_ERROR(ValidateOutputKey(key));
    Send(FrameWriter(FrameType::kSetOutput).Str(key).Str(value).Finish());
    return Status::Ok();
  }
  void AppendOutput(OutputStream stream, std::string_view bytes) override {
    Send(FrameWriter(FrameType::kOutput).U8(static_cast<uint8_t>(stream)).Str(bytes).Finish());
  }
  void Log(LogLevel level, std::string_view message) override {
    Send(FrameWriter(FrameType::kLog).U8(static_cast<uint8_t>(level)).Str(message).Finish());
  }
  void ReportProgress(double fraction, std::string_view message) override {
    Send(FrameWriter(FrameType::kProgress).F64(fraction).Str(message).Finish());
  }
  bool cancelled() const override { return cancelled_.load(std::memory_order_acquire); }
  void OnCancel(std::function<void()> hook) override EXCLUDES(cancel_mu_) {
    {
      MutexLock lock(cancel_mu_);
      if (!cancelled()) {
        hook_ = std::move(hook);
        return;
      }
    }
    if (hook) hook();
  }

  void Cancel() EXCLUDES(cancel_mu_) {
    std::function<void()> hook;
    {
      MutexLock lock(cancel_mu_);
      if (cancelled()) return;
      cancelled_.store(true, std::memory_order_release);
      hook = std::move(hook_);
    }
    if (hook) hook();
  }

  // Frames from plugin threads must not interleave.
  void Send(const std::string& frame) EXCLUDES(send_mu_) {
    MutexLock lock(send_mu_);
    // A host that is gone cannot be told anything; PR_SET_PDEATHSIG ends this process soon.
    if (!internal::SendAll(fd_, frame).ok()) _exit(kWorkerOrphaned);
  }

 private:
  const int fd_;
  Mutex send_mu_;
  Mutex cancel_mu_;
  std::atomic<bool> cancelled_{false};
  std::function<void()> hook_ GUARDED_BY(cancel_mu_);
};

// Lines the plugin logs without an attempt (from init, shutdown or a thread of its own) belong to
// the one attempt this worker exists for: they go to its log, not to the host's stderr once per
// attempt.
RemoteAttemptControl* g_control = nullptr;

void LogToAttempt(LogLevel level, std::string_view message) {
  if (g_control != nullptr) g_control->Log(level, message);
}

[[noreturn]] void Fatal(RemoteAttemptControl& control, const std::string& message) {
  control.Send(FrameWriter(FrameType::kFatal).Str(message).Finish());
  _exit(0);
}

}  // namespace

int RunPluginWorker(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "petit: %s is started by petit itself, not by hand\n", argv[1]);
    return kWorkerUsage;
  }
  const std::string file = argv[2];
  const std::string type = argv[3];
  const auto parent = static_cast<pid_t>(std::strtol(argv[4], nullptr, 10));
  const uint64_t limit_mb = std::strtoull(argv[5], nullptr, 10);

  // Die with the host; the check after it closes the window in which the host died before the
  // request took effect.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kWorkerOrphaned);
  ForbidRealtime();
  // The processes the plugin reports are noted as its host's, where recovery looks after a crash.
  host::NoteForHost(parent);
  // Processes the plugin starts must not hold the host's socket open.
  fcntl(kWorkerSocketFd, F_SETFD, FD_CLOEXEC);

  RemoteAttemptControl control(kWorkerSocketFd);
  control.Send(
      FrameWriter(FrameType::kHello).I64(static_cast<int64_t>(StatusKb("VmRSS"))).Finish());

  if (limit_mb > 0) {
    // Above what the worker already has mapped (a sanitizer's shadow counts there too), so the
    // plugin itself gets limit_mb of data, heap and thread stacks.
    const rlim_t limit = static_cast<rlim_t>((StatusKb("VmData") << 10) + (limit_mb << 20));
    const rlimit cap{limit, limit};
    if (setrlimit(RLIMIT_DATA, &cap) != 0) {
      Fatal(control, std::string("cannot set the worker's memory limit: ") + std::strerror(errno));
    }
  }

  Result<std::pair<FrameType, std::string>> first = internal::ReadFrame(kWorkerSocketFd);
  if (!first.ok()) _exit(kWorkerOrphaned);
  if (first->first != FrameType::kAttempt) Fatal(control, "expected an attempt from the host");
  Result<AttemptRequest> request = internal::DecodeAttempt(first->second);
  if (!request.ok()) Fatal(control, request.status().message());

  g_control = &control;
  SetPluginLogSink(&LogToAttempt);
  PluginLoader loader(PETIT_VERSION);
  // A thread the plugin leaves running must not run into unmapped code once the attempt's result
  // is sent (the worker then exits).
  loader.KeepLibrariesMapped();
  loader.LoadFile(file);
  PluginLoadResult loaded = loader.Release();
  if (!loaded.errors.empty()) Fatal(control, loaded.errors.front().message());
  if (loaded.plugins.empty()) Fatal(control, "no plugin in " + file);
  Result<std::shared_ptr<TaskRunner>> runner = MakePluginTaskRunner(loaded.plugins.front(), type);
  if (!runner.ok()) Fatal(control, runner.status().message());

  // The host's cancel, and the end of the host, arrive here while the attempt runs.
  std::thread reader([&control] {
    for (;;) {
      Result<std::pair<FrameType, std::string>> frame = internal::ReadFrame(kWorkerSocketFd);
      if (!frame.ok()) _exit(kWorkerOrphaned);
      if (frame->first == FrameType::kCancel) control.Cancel();
    }
  });
  reader.detach();

  const AttemptResult result = (*runner)->Run(*request, control);
  control.Send(internal::EncodeDone(result));
  // The plugin's shutdown hook runs here, as it would in the host. Whatever it does, the
  // attempt's result is already with the host; _exit skips the exit-time work (leak checks of a
  // sanitizer build included) of a process that is about to vanish anyway.
  runner->reset();
  loaded.plugins.clear();
  _exit(0);
}

}  // namespace petit::host
