/**
 * JPEG ops in the browser: decoded by the browser's own image decoder
 * (createImageBitmap: native code, often off the main thread), then written
 * into the RGBA framebuffer at their rects. Colour is left as sent
 * (colorSpaceConversion 'none'), so the pixels match what the host coded.
 */
import { PendingImage, writeImage } from '../codec/opStreamDecoder';

export class ImageOpDecoder {
  private canvas: OffscreenCanvas | null = null;

  /** Decodes every image (in parallel), then writes them in order. Rejects if any fails or has the wrong size. */
  async decodeInto(images: readonly PendingImage[], fb: Uint8ClampedArray, width: number): Promise<void> {
    const bitmaps = await Promise.all(images.map((im) => createImageBitmap(new Blob([im.jpeg as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' })));
    try {
      images.forEach((im, i) => {
        const bmp = bitmaps[i]!;
        if (bmp.width !== im.w || bmp.height !== im.h) throw new Error(`JPEG is ${bmp.width}x${bmp.height}, its rect ${im.w}x${im.h}`);
        if (!this.canvas || this.canvas.width < im.w || this.canvas.height < im.h) {
          this.canvas = new OffscreenCanvas(Math.max(im.w, this.canvas?.width ?? 0), Math.max(im.h, this.canvas?.height ?? 0));
        }
        const ctx = this.canvas.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(bmp, 0, 0);
        writeImage(fb, width, im, ctx.getImageData(0, 0, im.w, im.h).data);
      });
    } finally {
      for (const b of bitmaps) b.close();
    }
  }
}
