/* Hostile: imports a host function outside the WASI allowlist (-> InvalidModule). */
#include <stdio.h>

__attribute__((import_module("env"), import_name("read_owner_files"))) int read_owner_files(void);

int main(void) {
  printf("%d\n", read_owner_files());
  return 0;
}
