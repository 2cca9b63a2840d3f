/* Must NOT compile: compiled by the CTest tests sdk_plugin_h_rejects_wrong_* with one of
 * WRONG_ABI_INFO or WRONG_INIT defined, each of which passes only when the compiler reports the
 * conflict with the prototype plugin.h declares. A plugin that gets an entry point's signature
 * wrong fails to build instead of crashing the host at load. */
#include "petit/plugin.h"

#if defined(WRONG_ABI_INFO)
/* Returns the block by value instead of a pointer to it. */
petit_abi_info petit_plugin_abi_info(void) {
  petit_abi_info info = {sizeof(petit_abi_info), PETIT_ABI_MAGIC, PETIT_ABI_MAJOR,
                         PETIT_ABI_MINOR,        "wrong",         "1"};
  return info;
}
#elif defined(WRONG_INIT)
/* Forgets the error buffer. */
int32_t petit_plugin_init(const petit_init_args* args, petit_plugin_descriptor* out_descriptor) {
  (void)args;
  (void)out_descriptor;
  return PETIT_OK;
}
#else
#error "define WRONG_ABI_INFO or WRONG_INIT"
#endif
