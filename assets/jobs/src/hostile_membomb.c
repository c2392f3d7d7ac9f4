/* Hostile: allocates and touches 1 MiB blocks until malloc fails, then exits 1 (-> MemoryLimit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blk { struct blk *next; char data[(1 << 20) - 16]; };
struct blk *volatile head;

int main(void) {
  for (int i = 0;; i++) {
    struct blk *p = malloc(sizeof *p);
    if (!p) { fprintf(stderr, "malloc failed after %d MiB\n", i); return 1; }
    memset(p->data, i, sizeof p->data);
    p->next = head;
    head = p;
  }
}
