/**
 * Where the remote screen sits in the viewer: its scale (CSS pixels per remote
 * pixel) and offset inside the container, from fit-to-screen up to MAX_ZOOM
 * remote pixels per device pixel. Pure (no DOM): the viewer applies
 * `placement()` to the canvas, the touch input asks it for remote coordinates.
 *
 * Crispness: offsets are rounded to whole device pixels, and a zoom that ends
 * near 1:1 snaps to exactly one remote pixel per device pixel
 * (scale = 1 / devicePixelRatio), where the canvas is drawn without resampling.
 */

/** Most remote pixels per device pixel (3x). */
export const MAX_ZOOM = 3;
/** A zoom ending within this ratio of 1:1 snaps to 1:1. */
const SNAP_RATIO = 0.12;

export interface Size {
  width: number;
  height: number;
}

export class ViewTransform {
  private screen: Size = { width: 0, height: 0 };
  /** The container, and how much of its height is visible (above a soft keyboard). */
  private box: Size = { width: 0, height: 0 };
  private visibleHeight = 0;
  private scale = 1;
  private left = 0;
  private top = 0;
  /** Following the container at fit scale (until the user zooms). */
  private fitting = true;

  constructor(private dpr = 1) {}

  /** The remote screen's size changed (RESIZE): back to fit. */
  setScreen(width: number, height: number): void {
    this.screen = { width, height };
    this.fitting = true;
    this.relayout();
  }

  /** The container's size (and the visible part of its height) changed; the device pixel ratio too, maybe. */
  setContainer(width: number, height: number, visibleHeight = height, dpr = this.dpr): void {
    this.box = { width, height };
    this.visibleHeight = Math.max(1, Math.min(height, visibleHeight));
    this.dpr = dpr;
    this.relayout();
  }

  /** CSS pixels per remote pixel that fit the whole screen in the container. */
  fitScale(): number {
    if (!this.screen.width || !this.box.width) return 1;
    return Math.min(this.box.width / this.screen.width, this.box.height / this.screen.height);
  }

  /** 1:1: one remote pixel per device pixel. */
  oneToOneScale(): number {
    return 1 / this.dpr;
  }

  maxScale(): number {
    return Math.max(this.fitScale(), MAX_ZOOM / this.dpr);
  }

  isZoomed(): boolean {
    return this.scale > this.fitScale() * 1.001;
  }

  /** Remote pixels per device pixel, for the UI (1 = 1:1). */
  zoom(): number {
    return this.scale * this.dpr;
  }

  placement(): { scale: number; left: number; top: number; width: number; height: number } {
    return { scale: this.scale, left: this.left, top: this.top, width: this.screen.width * this.scale, height: this.screen.height * this.scale };
  }

  /** The remote pixel under a container point, or null outside the screen. */
  toRemote(x: number, y: number): { x: number; y: number } | null {
    const rx = Math.floor((x - this.left) / this.scale), ry = Math.floor((y - this.top) / this.scale);
    if (rx < 0 || ry < 0 || rx >= this.screen.width || ry >= this.screen.height) return null;
    return { x: rx, y: ry };
  }

  /** The remote pixel under a container point, clamped to the screen (for drags that leave it). */
  toRemoteClamped(x: number, y: number): { x: number; y: number } {
    return {
      x: Math.max(0, Math.min(this.screen.width - 1, Math.floor((x - this.left) / this.scale))),
      y: Math.max(0, Math.min(this.screen.height - 1, Math.floor((y - this.top) / this.scale))),
    };
  }

  /** Back to fit-to-screen, centred. */
  fit(): void {
    this.fitting = true;
    this.relayout();
  }

  /** Multiplies the scale by `factor`, keeping the remote point under (x, y) where it is. */
  zoomAt(factor: number, x: number, y: number): void {
    this.setScale(this.scale * factor, x, y);
  }

  /** Zooms to `scale` with the remote pixel (rx, ry) at the container point (x, y). */
  zoomTo(scale: number, rx: number, ry: number, x: number, y: number): void {
    this.scale = Math.max(this.fitScale(), Math.min(this.maxScale(), scale));
    this.fitting = !this.isZoomed();
    this.left = x - (rx + 0.5) * this.scale;
    this.top = y - (ry + 0.5) * this.scale;
    this.clamp();
  }

  /** Moves the picture by (dx, dy) CSS pixels (a pan). */
  panBy(dx: number, dy: number): void {
    this.left += dx;
    this.top += dy;
    this.clamp();
  }

  /** A zoom gesture ended: near 1:1 becomes exactly 1:1 (around the middle of the visible part). */
  settle(): void {
    const one = this.oneToOneScale();
    if (Math.abs(this.scale / one - 1) < SNAP_RATIO) this.setScale(one, this.box.width / 2, this.visibleHeight / 2);
  }

  /** Pans the least needed to show the remote point (rx, ry) with `margin` CSS pixels around it, inside the visible part. */
  reveal(rx: number, ry: number, margin = 48): void {
    const x = this.left + (rx + 0.5) * this.scale, y = this.top + (ry + 0.5) * this.scale;
    const m = Math.min(margin, this.box.width / 4, this.visibleHeight / 4);
    let dx = 0, dy = 0;
    if (x < m) dx = m - x;
    else if (x > this.box.width - m) dx = this.box.width - m - x;
    if (y < m) dy = m - y;
    else if (y > this.visibleHeight - m) dy = this.visibleHeight - m - y;
    if (dx || dy) this.panBy(dx, dy);
  }

  private setScale(scale: number, x: number, y: number): void {
    const s = Math.max(this.fitScale(), Math.min(this.maxScale(), scale));
    this.left = x - ((x - this.left) * s) / this.scale;
    this.top = y - ((y - this.top) * s) / this.scale;
    this.scale = s;
    this.fitting = !this.isZoomed();
    this.clamp();
  }

  private relayout(): void {
    if (this.fitting || this.scale < this.fitScale()) {
      this.scale = this.fitScale();
      this.fitting = true;
    }
    this.scale = Math.min(this.scale, this.maxScale());
    this.clamp();
  }

  /** A picture smaller than the container is centred (in the visible part); a larger one cannot leave a gap at an edge. */
  private clamp(): void {
    const w = this.screen.width * this.scale, h = this.screen.height * this.scale;
    const vh = this.fitting ? this.box.height : this.visibleHeight;
    this.left = w <= this.box.width ? (this.box.width - w) / 2 : Math.min(0, Math.max(this.box.width - w, this.left));
    this.top = h <= vh ? (vh - h) / 2 : Math.min(0, Math.max(vh - h, this.top));
    // Whole device pixels: at 1:1 every remote pixel lands on exactly one device pixel.
    this.left = Math.round(this.left * this.dpr) / this.dpr;
    this.top = Math.round(this.top * this.dpr) / this.dpr;
  }
}
