/* Counts lines, words and bytes of stdin like `wc`: prints "<lines> <words> <bytes>\n". */
#include <ctype.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static unsigned char buf[65536];
  unsigned long long lines = 0, words = 0, bytes = 0;
  int inword = 0;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0) return 1;
    if (n == 0) break;
    bytes += (unsigned long long)n;
    for (ssize_t i = 0; i < n; i++) {
      unsigned char c = buf[i];
      if (c == '\n') lines++;
      int space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
      if (space) inword = 0;
      else if (!inword) { inword = 1; words++; }
    }
  }
  printf("%llu %llu %llu\n", lines, words, bytes);
  return 0;
}
