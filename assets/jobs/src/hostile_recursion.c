/* Hostile: unbounded recursion with stack frames (-> Trap: stack overflow). */
#include <stdio.h>

static int depth(volatile int n) {
  volatile char frame[512];
  frame[n % 512] = (char)n;
  return depth(n + 1) + frame[(n * 7) % 512];
}

int main(void) {
  printf("%d\n", depth(0));
  return 0;
}
