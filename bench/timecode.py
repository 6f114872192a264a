#!/usr/bin/python3
"""Paints a benchmark scene and a machine-readable wall-clock time code on an
X display (the root window of a bare Xvfb), so that a viewer can tell from a
decoded frame when that picture was drawn.

The time code: two rows of 24 square cells at (CODE_X, CODE_Y). Row one holds
the low 24 bits of CLOCK_REALTIME in milliseconds, most significant bit first,
white for 1; row two holds the complement, so a reader can reject blurred,
half-drawn or missing codes cell by cell. The block is drawn into a pixmap
first and copied to the screen in one request, so a capture never sees half
of it.

Scenes, chosen by a line on stdin ("idle", "typing", "motion", "quit"):
  idle    a still desktop: nothing is drawn at all.
  typing  the still desktop plus TYPING_RATE pseudo-characters per second
          appended to a text line; the code changes with each character, so
          each one gives one latency sample.
  motion  a detailed texture scrolls across the whole screen at 60 Hz and the
          code is repainted every CODE_PERIOD seconds.
Prints "ready" once the desktop is drawn and "scene <name>" after each change.
"""

import argparse
import os
import select
import sys
import time

import numpy as np
from Xlib import X, display as xdisplay

CELL = 16
BITS = 24
CODE_X = 32
CODE_Y = 32
CODE_W = CELL * BITS
CODE_H = CELL * 2
CODE_PERIOD = 0.002
MOTION_PERIOD = 1 / 60
TYPING_RATE = 8.0
GLYPH_W, GLYPH_H = 9, 16
# Largest PutImage payload that fits a core request (without BIG-REQUESTS).
MAX_REQUEST_BYTES = 200_000


def now_ms():
    return time.clock_gettime_ns(time.CLOCK_REALTIME) // 1_000_000


class Painter:
    """Draws the scenes on one screen."""

    def __init__(self, name):
        self.d = xdisplay.Display(name)
        screen = self.d.screen()
        self.root = screen.root
        self.depth = screen.root_depth
        self.w = screen.width_in_pixels
        self.h = screen.height_in_pixels
        self.gc = self.root.create_gc(foreground=0, background=0)
        self.code = self.root.create_pixmap(CODE_W, CODE_H, self.depth)
        self.desktop = self.image_pixmap(desktop_image(self.w, self.h))
        self.texture = self.image_pixmap(texture_image(self.w * 2, self.h * 2))
        self.cursor = None
        self.text_line = 0
        self.offset = 0

    def image_pixmap(self, rgb):
        """Uploads an (h, w, 3) uint8 image into a new pixmap, in strips."""
        h, w, _ = rgb.shape
        pixmap = self.root.create_pixmap(w, h, self.depth)
        bgrx = np.zeros((h, w, 4), dtype=np.uint8)
        bgrx[:, :, 0] = rgb[:, :, 2]
        bgrx[:, :, 1] = rgb[:, :, 1]
        bgrx[:, :, 2] = rgb[:, :, 0]
        rows = max(1, MAX_REQUEST_BYTES // (w * 4))
        for y in range(0, h, rows):
            strip = bgrx[y:y + rows]
            pixmap.put_image(self.gc, 0, y, w, strip.shape[0], X.ZPixmap, self.depth, 0, strip.tobytes())
        return pixmap

    def fill(self, drawable, colour, rects):
        self.gc.change(foreground=colour)
        drawable.poly_fill_rectangle(self.gc, rects)

    def draw_code(self):
        value = now_ms() & ((1 << BITS) - 1)
        ones, zeros = [], []
        for i in range(BITS):
            bit = (value >> (BITS - 1 - i)) & 1
            top = (i * CELL, 0, CELL, CELL)
            bottom = (i * CELL, CELL, CELL, CELL)
            (ones if bit else zeros).append(top)
            (zeros if bit else ones).append(bottom)
        self.fill(self.code, 0xFFFFFF, ones)
        self.fill(self.code, 0x000000, zeros)
        self.root.copy_area(self.gc, self.code, 0, 0, CODE_W, CODE_H, CODE_X, CODE_Y)

    def show_desktop(self):
        self.root.copy_area(self.gc, self.desktop, 0, 0, self.w, self.h, 0, 0)
        self.cursor = None
        self.text_line = 0

    def type_one(self):
        """Appends one pseudo-character to the editor's current line."""
        left, top, width, lines = editor_area(self.w, self.h)
        if self.cursor is None or self.cursor + GLYPH_W > left + width:
            if self.cursor is not None:
                self.text_line = (self.text_line + 1) % lines
            self.cursor = left
            y = top + self.text_line * (GLYPH_H + 4)
            self.fill(self.root, 0xFFFFFF, [(left, y, width, GLYPH_H)])
        y = top + self.text_line * (GLYPH_H + 4)
        seed = int(time.monotonic() * 1000) & 0xFFFF
        rects = glyph_rects(self.cursor, y, seed)
        self.fill(self.root, 0x202020, rects)
        self.cursor += GLYPH_W

    def scroll(self):
        self.offset = (self.offset + 1) % 100_000
        sx = (self.offset * 7) % self.w
        sy = (self.offset * 3) % self.h
        self.root.copy_area(self.gc, self.texture, sx, sy, self.w, self.h, 0, 0)


def editor_area(w, h):
    """The text editor window's text box: left, top, width, number of lines."""
    left, top = w // 8 + 24, h // 6 + 56
    width = w // 2 - 48
    lines = max(1, (h // 2 - 80) // (GLYPH_H + 4))
    return left, top, width, lines


def glyph_rects(x, y, seed):
    """A letter-like shape: a few strokes on a 7x12 grid (space every 6th)."""
    if seed % 6 == 0:
        return []
    rects = []
    bits = (seed * 2654435761) & 0xFFFFFFFF
    rects.append((x + 1 + (bits & 3), y + 3, 2, 11))
    if bits & 0x10:
        rects.append((x + 1, y + 3 + ((bits >> 5) & 7), 7, 2))
    if bits & 0x100:
        rects.append((x + 5, y + 3, 2, 11))
    if bits & 0x1000:
        rects.append((x + 1, y + 12, 7, 2))
    return rects


def desktop_image(w, h):
    """A still desktop: a gradient wallpaper, a task bar, an editor window
    with lines of pseudo-text and a second window with a photo-like area."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[:, :, 0] = (40 + 40 * xs / w).astype(np.uint8)
    img[:, :, 1] = (70 + 60 * ys / h).astype(np.uint8)
    img[:, :, 2] = (120 + 80 * (xs + ys) / (w + h)).astype(np.uint8)
    img[h - 40:, :] = (32, 32, 36)
    left, top = w // 8, h // 6
    img[top:top + h // 2, left:left + w // 2] = (250, 250, 250)
    img[top:top + 32, left:left + w // 2] = (60, 90, 160)
    rng = np.random.default_rng(7)
    tl, tt, tw, lines = editor_area(w, h)
    for line in range(lines // 2):
        y = tt + (lines // 2 + line) * (GLYPH_H + 4)
        x = tl
        while x + GLYPH_W < tl + int(tw * rng.uniform(0.4, 1.0)):
            for (rx, ry, rw, rh) in glyph_rects(x, y, int(rng.integers(0, 1 << 16))):
                img[ry:ry + rh, rx:rx + rw] = (32, 32, 32)
            x += GLYPH_W
    pl, pt = w // 2 + 40, h // 4
    pw, ph = w // 3, h // 2
    img[pt:pt + ph, pl:pl + pw] = texture_image(pw, ph, seed=3)
    return img


def texture_image(w, h, seed=1):
    """A detailed, photo-like texture: smooth colour waves plus fine noise."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), dtype=np.float32)
    for c in range(3):
        f1, f2, f3 = rng.uniform(0.002, 0.02, 3)
        img[:, :, c] = 128 + 50 * np.sin(xs * f1 + ys * f2) + 40 * np.sin(np.hypot(xs - w / 3, ys - h / 2) * f3)
    img += rng.normal(0, 12, (h, w, 1)).astype(np.float32)
    blocks = rng.integers(0, 255, (h // 24 + 1, w // 24 + 1, 3)).astype(np.float32)
    img += 0.25 * (np.kron(blocks, np.ones((24, 24, 1), dtype=np.float32))[:h, :w] - 128)
    return np.clip(img, 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", default=os.environ.get("DISPLAY"))
    args = parser.parse_args()
    painter = Painter(args.display)
    painter.show_desktop()
    painter.draw_code()
    painter.d.sync()
    print("ready", flush=True)

    scene = "idle"
    next_code = next_motion = next_key = time.monotonic()
    while True:
        now = time.monotonic()
        if scene == "idle":
            timeout = None
        else:
            timeout = max(0.0, min(next_code, next_motion, next_key) - now)
        readable, _, _ = select.select([sys.stdin], [], [], timeout)
        if readable:
            line = sys.stdin.readline()
            command = line.strip()
            if not line or command == "quit":
                return
            if command not in ("idle", "typing", "motion"):
                print(f"error unknown scene {command!r}", flush=True)
                continue
            scene = command
            painter.show_desktop()
            painter.draw_code()
            painter.d.sync()
            next_code = next_motion = next_key = time.monotonic()
            print(f"scene {scene}", flush=True)
            continue
        now = time.monotonic()
        if scene == "typing" and now >= next_key:
            painter.type_one()
            painter.draw_code()
            next_key += 1 / TYPING_RATE
            next_code = next_motion = float("inf")
        if scene == "motion":
            scrolled = now >= next_motion
            if scrolled:
                painter.scroll()
                next_motion = max(next_motion + MOTION_PERIOD, now - MOTION_PERIOD)
            if scrolled or now >= next_code:
                painter.draw_code()
                next_code = max(next_code + CODE_PERIOD, now)
            next_key = float("inf")
        painter.d.flush()


if __name__ == "__main__":
    main()
