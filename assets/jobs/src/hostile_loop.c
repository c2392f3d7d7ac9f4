/* Hostile: spins forever (ends by FuelExhausted or Timeout). */
int main(void) {
  volatile unsigned long long x = 0;
  for (;;) x++;
}
