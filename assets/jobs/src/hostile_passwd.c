/* Hostile: tries to read /etc/passwd through libc and through raw WASI path_open on likely
 * preopen descriptors. Prints what happened; exits 0 only if it managed to read something. */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

int main(void) {
  int leaked = 0;
  FILE *f = fopen("/etc/passwd", "r");
  if (f) {
    char line[256];
    if (fgets(line, sizeof line, f)) { printf("fopen: read %s", line); leaked = 1; }
    fclose(f);
  } else {
    printf("fopen: denied\n");
  }
  for (__wasi_fd_t dirfd = 0; dirfd < 8; dirfd++) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dirfd, 0, "etc/passwd", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd);
    if (e == 0) {
      char buf[64];
      __wasi_iovec_t iov = { (uint8_t *)buf, sizeof buf };
      __wasi_size_t n = 0;
      if (__wasi_fd_read(fd, &iov, 1, &n) == 0 && n > 0) { printf("path_open(%u): read %lu bytes\n", dirfd, (unsigned long)n); leaked = 1; }
    } else {
      printf("path_open(%u): errno %u\n", dirfd, e);
    }
  }
  return leaked ? 0 : 1;
}
