/* Sieve of Eratosthenes: reads N from stdin (default 1000000), prints "<count of primes <= N> <largest prime <= N>\n". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  long n = 1000000;
  if (scanf("%ld", &n) != 1) n = 1000000;
  if (n < 2) { printf("0 0\n"); return 0; }
  if (n > 200000000) { fprintf(stderr, "N too large\n"); return 2; }
  unsigned char *composite = calloc((size_t)n + 1, 1);
  if (!composite) { fprintf(stderr, "out of memory\n"); return 3; }
  for (long i = 2; i * i <= n; i++)
    if (!composite[i])
      for (long j = i * i; j <= n; j += i) composite[j] = 1;
  long count = 0, last = 0;
  for (long i = 2; i <= n; i++) if (!composite[i]) { count++; last = i; }
  printf("%ld %ld\n", count, last);
  free(composite);
  return 0;
}
