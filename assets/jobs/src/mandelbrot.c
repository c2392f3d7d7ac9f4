/* Mandelbrot set as a binary PGM (P5). stdin: "<width> <height> <max_iter>" (default 256 256 256). */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  int w = 256, h = 256, maxit = 256;
  if (scanf("%d %d %d", &w, &h, &maxit) != 3) { w = 256; h = 256; maxit = 256; }
  if (w < 1 || h < 1 || w > 8192 || h > 8192 || maxit < 1 || maxit > 100000) { fprintf(stderr, "bad size\n"); return 2; }
  unsigned char *img = malloc((size_t)w * (size_t)h);
  if (!img) return 3;
  for (int y = 0; y < h; y++) {
    double ci = -1.5 + 3.0 * y / h;
    for (int x = 0; x < w; x++) {
      double cr = -2.0 + 3.0 * x / w;
      double zr = 0.0, zi = 0.0;
      int i = 0;
      while (i < maxit) {
        double zr2 = zr * zr, zi2 = zi * zi;
        if (zr2 + zi2 > 4.0) break;
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        i++;
      }
      img[(size_t)y * w + x] = (unsigned char)(i == maxit ? 0 : 255 - (i * 255) / maxit);
    }
  }
  printf("P5\n%d %d\n255\n", w, h);
  fwrite(img, 1, (size_t)w * (size_t)h, stdout);
  free(img);
  return 0;
}
