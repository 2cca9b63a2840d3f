// The exit codes of the `petit` process, the promise scripts and systemd rely on.
//
// 0 success; 1 the run failed or was cancelled (or a trigger or retry was refused by
// max_concurrency); 2 bad usage or invalid job files; 3 the host could not work (storage
// unreachable, no plugins).
#ifndef PETIT_HOST_EXIT_CODES_H_
#define PETIT_HOST_EXIT_CODES_H_

namespace petit::host {

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHostError = 3;

}  // namespace petit::host

#endif  // PETIT_HOST_EXIT_CODES_H_
