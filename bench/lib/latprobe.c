/*
 * latprobe: the glass-to-glass latency bench's X clients (bench/latency.js).
 * Both stamp events with CLOCK_MONOTONIC, the clock Node's process.hrtime
 * reads, so the bench compares paint and sight times on one clock.
 *
 *   latprobe draw DISPLAY X Y
 *     For each line "N\n" on stdin, paints the coded square for N at (X, Y)
 *     on the root window, XSyncs, and prints "N T0_NS T_NS": T0 before the
 *     drawing requests, T after XSync (the server has the pixels; a busy
 *     server can answer late, so a viewer may show the square before T).
 *   latprobe watch DISPLAY
 *     Finds the square on the screen (its magenta finder bar; the viewer may
 *     scale or offset the picture), prints "found X Y SCALE", then reads the
 *     square's region every ~1 ms and prints "seen N T_NS" each time a new
 *     valid code is first visible. Runs until stdin closes.
 *
 * The square (64x64 host pixels): 8 rows of magenta finder bar, then 4x4
 * cells of 16x14 pixels, white = 1, black = 0: 16 bits = an 11-bit counter
 * and a 5-bit check, so a half-updated square (old and new cells mixed)
 * does not decode as a valid code. Cells are large and black/white so JPEG
 * (TigerVNC Tight JPEG, tilecast's lossy tiles) keeps them readable.
 * Built on first use by bench/latency.js (cc, -lX11).
 */
#define _POSIX_C_SOURCE 200809L
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SQ 64
#define BAR 8
#define CW 16
#define CH 14
#define COUNTER_BITS 11

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned check_of(unsigned n) { return ((n * 23u) + 7u + (n >> 5) * 11u) & 31u; }
static unsigned encode(unsigned n) { return (n & 0x7ffu) | (check_of(n & 0x7ffu) << COUNTER_BITS); }
static int decode(unsigned bits) {
  unsigned n = bits & 0x7ffu;
  return (bits >> COUNTER_BITS) == check_of(n) ? (int)n : -1;
}

static int draw(Display *dpy, int x, int y) {
  int scr = DefaultScreen(dpy);
  Window root = RootWindow(dpy, scr);
  GC gc = XCreateGC(dpy, root, 0, NULL);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    char *end;
    long n = strtol(line, &end, 10);
    long long t0 = now_ns();
    if (end == line || n < 0 || n > 0x7ff) { fprintf(stderr, "latprobe draw: bad code %s", line); return 1; }
    unsigned bits = encode((unsigned)n);
    XSetForeground(dpy, gc, 0xff00ff);
    XFillRectangle(dpy, root, gc, x, y, SQ, BAR);
    for (int i = 0; i < 16; i++) {
      XSetForeground(dpy, gc, (bits >> i) & 1 ? 0xffffff : 0x000000);
      XFillRectangle(dpy, root, gc, x + (i % 4) * CW, y + BAR + (i / 4) * CH, CW, CH);
    }
    XSync(dpy, False);
    printf("%ld %lld %lld\n", n, t0, now_ns());
    fflush(stdout);
  }
  XFreeGC(dpy, gc);
  return 0;
}

static int is_magenta(unsigned long p) {
  unsigned r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
  return r > 190 && b > 190 && g < 90;
}

/* The finder bar: the longest magenta run on a row, at least 32 pixels, whose
   rows below stay magenta for about BAR*scale rows. */
static int find(Display *dpy, Window root, int sw, int sh, int *fx, int *fy, double *scale) {
  XImage *img = XGetImage(dpy, root, 0, 0, sw, sh, AllPlanes, ZPixmap);
  if (!img) return 0;
  int found = 0;
  for (int y = 0; y < sh && !found; y++) {
    int run = 0;
    for (int x = 0; x <= sw; x++) {
      if (x < sw && is_magenta(XGetPixel(img, x, y))) { run++; continue; }
      if (run >= 32) {
        int x0 = x - run, mid = x0 + run / 2, rows = 0;
        while (y + rows < sh && is_magenta(XGetPixel(img, mid, y + rows))) rows++;
        double s = run / (double)SQ;
        if (rows >= BAR * s * 0.6 && rows <= BAR * s * 1.6 + 2) { *fx = x0; *fy = y; *scale = s; found = 1; break; }
      }
      run = 0;
    }
  }
  XDestroyImage(img);
  return found;
}

static int stdin_closed(void) {
  struct pollfd p = { .fd = 0, .events = POLLIN };
  if (poll(&p, 1, 0) <= 0) return 0;
  char buf[64];
  return read(0, buf, sizeof buf) <= 0;
}

static int watch(Display *dpy) {
  int scr = DefaultScreen(dpy);
  Window root = RootWindow(dpy, scr);
  int sw = DisplayWidth(dpy, scr), sh = DisplayHeight(dpy, scr);
  int fx = 0, fy = 0;
  double s = 1;
  while (!find(dpy, root, sw, sh, &fx, &fy, &s)) {
    if (stdin_closed()) return 0;
    struct timespec d = { 0, 100 * 1000000L };
    nanosleep(&d, NULL);
  }
  int w = (int)(SQ * s + 0.5), h = w;
  if (fx + w > sw) w = sw - fx;
  if (fy + h > sh) h = sh - fy;
  printf("found %d %d %.4f\n", fx, fy, s);
  fflush(stdout);
  int last = -1;
  for (unsigned long iter = 0;; iter++) {
    XImage *img = XGetImage(dpy, root, fx, fy, w, h, AllPlanes, ZPixmap);
    long long t = now_ns();
    if (!img) { fprintf(stderr, "latprobe watch: XGetImage failed\n"); return 1; }
    unsigned bits = 0;
    int ok = 1;
    for (int i = 0; i < 16 && ok; i++) {
      int cx = (int)(((i % 4) * CW + CW / 2) * s), cy = (int)((BAR + (i / 4) * CH + CH / 2) * s);
      if (cx >= w || cy >= h) { ok = 0; break; }
      unsigned long p = XGetPixel(img, cx, cy);
      unsigned lum = (((p >> 16) & 255) + ((p >> 8) & 255) + (p & 255)) / 3;
      if (lum >= 160) bits |= 1u << i;
      else if (lum > 96) ok = 0; /* mid-grey: a cell being resampled or blended */
    }
    XDestroyImage(img);
    int code = ok ? decode(bits) : -1;
    if (code >= 0 && code != last) {
      printf("seen %d %lld\n", code, t);
      fflush(stdout);
      last = code;
    }
    if ((iter & 63) == 0 && stdin_closed()) return 0;
    struct timespec d = { 0, 1000000L };
    nanosleep(&d, NULL);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: latprobe draw DISPLAY X Y | latprobe watch DISPLAY\n"); return 2; }
  Display *dpy = XOpenDisplay(argv[2]);
  if (!dpy) { fprintf(stderr, "latprobe: cannot open display %s\n", argv[2]); return 2; }
  int rc = 2;
  if (strcmp(argv[1], "draw") == 0 && argc == 5) rc = draw(dpy, atoi(argv[3]), atoi(argv[4]));
  else if (strcmp(argv[1], "watch") == 0) rc = watch(dpy);
  else fprintf(stderr, "latprobe: unknown mode %s\n", argv[1]);
  XCloseDisplay(dpy);
  return rc;
}
