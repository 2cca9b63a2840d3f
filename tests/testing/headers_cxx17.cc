// petit::testing's installed headers promise C++17 and need nothing but the SDK's headers.
#include "petit/testing/harness.h"
#include "petit/testing/mock_task_context.h"
#include "petit/testing/timeline.h"

int main() { return 0; }
