/*
 * xput: draws BGRA rectangles read from stdin onto the root window of an X
 * display, so a recorded session replays into an X server (Xvnc for the
 * TigerVNC baseline) with exactly the recorded pixels.
 *
 * stdin, repeated: u32 count (little-endian), then count times
 *   u16 x, u16 y, u16 w, u16 h, w*h*4 bytes BGRA (rows packed);
 * after drawing the batch and XSync, one byte 'k' is written to stdout.
 * Built on first use by bench/lib/tigervnc.js (cc, -lX11).
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_all(void *p, size_t n) {
  return n == 0 || fread(p, 1, n, stdin) == n;
}

static unsigned le16(const unsigned char *b) { return b[0] | (b[1] << 8); }

int main(int argc, char **argv) {
  Display *dpy = XOpenDisplay(argc > 1 ? argv[1] : NULL);
  if (!dpy) { fprintf(stderr, "xput: cannot open display\n"); return 2; }
  int scr = DefaultScreen(dpy);
  Window root = RootWindow(dpy, scr);
  Visual *vis = DefaultVisual(dpy, scr);
  if (DefaultDepth(dpy, scr) != 24 || vis->red_mask != 0xff0000 || vis->blue_mask != 0xff) {
    fprintf(stderr, "xput: need a 24-bit TrueColor screen with BGRX pixels\n");
    return 2;
  }
  unsigned sw = DisplayWidth(dpy, scr), sh = DisplayHeight(dpy, scr);
  GC gc = DefaultGC(dpy, scr);
  unsigned char hdr[8];
  size_t cap = 0;
  char *buf = NULL;
  for (;;) {
    unsigned char cnt[4];
    if (!read_all(cnt, 4)) break;
    uint32_t count = cnt[0] | (cnt[1] << 8) | (cnt[2] << 16) | ((uint32_t)cnt[3] << 24);
    for (uint32_t i = 0; i < count; i++) {
      if (!read_all(hdr, 8)) { fprintf(stderr, "xput: truncated header\n"); return 1; }
      unsigned x = le16(hdr), y = le16(hdr + 2), w = le16(hdr + 4), h = le16(hdr + 6);
      if (w == 0 || h == 0 || x + w > sw || y + h > sh) { fprintf(stderr, "xput: bad rect\n"); return 1; }
      size_t n = (size_t)w * h * 4;
      if (n > cap) {
        char *nb = realloc(buf, n);
        if (!nb) { fprintf(stderr, "xput: out of memory\n"); return 1; }
        buf = nb;
        cap = n;
      }
      if (!read_all(buf, n)) { fprintf(stderr, "xput: truncated pixels\n"); return 1; }
      XImage *img = XCreateImage(dpy, vis, 24, ZPixmap, 0, buf, w, h, 32, (int)w * 4);
      if (!img) { fprintf(stderr, "xput: XCreateImage failed\n"); return 1; }
      img->byte_order = LSBFirst;
      XPutImage(dpy, root, gc, img, 0, 0, (int)x, (int)y, w, h);
      img->data = NULL; /* buf is ours */
      XDestroyImage(img);
    }
    XSync(dpy, False);
    if (fputc('k', stdout) == EOF || fflush(stdout) != 0) break;
  }
  free(buf);
  XCloseDisplay(dpy);
  return 0;
}
