/* Interactive line calculator: each stdin line is an integer expression (+ - * / % and parentheses);
 * prints "= <value>" or "error: <msg>" per line and flushes. A line "quit" or end of input ends it. */
#include <stdio.h>
#include <string.h>

static const char *p;
static const char *err;

static long long expr(void);

static void skip(void) { while (*p == ' ' || *p == '\t') p++; }

static long long atom(void) {
  skip();
  if (*p == '(') {
    p++;
    long long v = expr();
    skip();
    if (*p != ')') { if (!err) err = "expected )"; return 0; }
    p++;
    return v;
  }
  if (*p == '-') { p++; return -atom(); }
  if (*p < '0' || *p > '9') { if (!err) err = "expected a number"; return 0; }
  long long v = 0;
  while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  return v;
}

static long long term(void) {
  long long v = atom();
  for (;;) {
    skip();
    char op = *p;
    if (op != '*' && op != '/' && op != '%') return v;
    p++;
    long long r = atom();
    if (op == '*') v *= r;
    else if (r == 0) { if (!err) err = "division by zero"; return 0; }
    else if (op == '/') v /= r;
    else v %= r;
  }
}

static long long expr(void) {
  long long v = term();
  for (;;) {
    skip();
    char op = *p;
    if (op != '+' && op != '-') return v;
    p++;
    long long r = term();
    v = op == '+' ? v + r : v - r;
  }
}

int main(void) {
  char line[1024];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    if (strcmp(line, "quit") == 0) break;
    if (line[0] == 0) continue;
    p = line;
    err = 0;
    long long v = expr();
    skip();
    if (!err && *p) err = "unexpected input";
    if (err) printf("error: %s\n", err);
    else printf("= %lld\n", v);
    fflush(stdout);
  }
  printf("bye\n");
  return 0;
}
