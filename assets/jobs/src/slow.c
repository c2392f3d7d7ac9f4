/*
 * slow: a long-running job for soak and timer tests. Reads "SECONDS" from stdin, then alternates a
 * little computation (~10 ms) with sleeps (~40 ms) until SECONDS of wall-clock time have passed,
 * and prints "done after SECONDS s\n" plus a checksum of the fixed computation per round.
 * It exercises progress reporting (fuel keeps moving), clocks and sleeps (poll_oneoff).
 */
#include <stdio.h>
#include <stdint.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  double seconds = 0;
  if (scanf("%lf", &seconds) != 1 || seconds < 0 || seconds > 3600) {
    fprintf(stderr, "usage: echo SECONDS | slow\n");
    return 2;
  }
  double start = now_s();
  uint32_t x = 2463534242u;
  unsigned rounds = 0;
  while (now_s() - start < seconds) {
    for (int i = 0; i < 200000; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; }
    rounds++;
    struct timespec nap = { 0, 40 * 1000 * 1000 };
    nanosleep(&nap, NULL);
  }
  fprintf(stderr, "slow: %u rounds (%08x)\n", rounds, x);
  printf("done after %g s\n", seconds);
  return 0;
}
