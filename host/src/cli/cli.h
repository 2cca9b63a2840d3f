// The `petit` command line: parses arguments, runs one command, returns the process exit code.
//
// Exit codes: 0 success; 1 the run failed or was cancelled; 2 bad usage or invalid job files;
// 3 the host could not work (storage unreachable, no plugins).
#ifndef PETIT_HOST_CLI_CLI_H_
#define PETIT_HOST_CLI_CLI_H_

namespace petit::host {

constexpr int kExitOk = 0;
constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitHostError = 3;

int RunCli(int argc, char** argv);

}  // namespace petit::host

#endif  // PETIT_HOST_CLI_CLI_H_
