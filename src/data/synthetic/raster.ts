/**
 * A tiny anti-aliased rasteriser for the generated faces: shapes are first
 * turned into a coverage mask (0..1 per pixel), then painted onto a
 * grayscale Float32Array with a colour (a value or a function of position)
 * and an opacity. Plain JS so faces render anywhere, fast.
 */

/** Pixel bounds [x0, y0, x1, y1) a shape touched. */
type Bounds = [number, number, number, number];

/** A colour: a gray value, or one that varies over the image (shading). */
export type Paint = number | ((x: number, y: number) => number);

export class Canvas {
  readonly pixels: Float32Array;
  private readonly cover: Float32Array;
  private readonly clip: Float32Array;
  private crossings = new Float64Array(64);

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Float32Array(width * height);
    this.cover = new Float32Array(width * height);
    this.clip = new Float32Array(width * height);
  }

  private bounds(x0: number, y0: number, x1: number, y1: number): Bounds {
    return [
      Math.max(0, Math.floor(x0)),
      Math.max(0, Math.floor(y0)),
      Math.min(this.width, Math.ceil(x1) + 1),
      Math.min(this.height, Math.ceil(y1) + 1),
    ];
  }

  /** Coverage of a rotated ellipse (angle in radians) into mask `into`. */
  private ellipse(into: Float32Array, cx: number, cy: number, rx: number, ry: number, angle: number): Bounds {
    const r = Math.max(rx, ry);
    const b = this.bounds(cx - r - 1, cy - r - 1, cx + r + 1, cy + r + 1);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const edge = Math.max(0.5, Math.min(rx, ry));
    for (let y = b[1]; y < b[3]; y++) {
      for (let x = b[0]; x < b[2]; x++) {
        const dx = x - cx;
        const dy = y - cy;
        const u = (dx * c + dy * s) / rx;
        const v = (-dx * s + dy * c) / ry;
        const d = Math.sqrt(u * u + v * v);
        const a = (1 - d) * edge + 0.5;
        if (a > 0) into[y * this.width + x] = Math.max(into[y * this.width + x], a > 1 ? 1 : a);
      }
    }
    return b;
  }

  /** Coverage of a polygon (x,y pairs), even-odd, 2 sub-rows per pixel and exact horizontal coverage. */
  private polygon(into: Float32Array, pts: ArrayLike<number>): Bounds {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    const n = pts.length / 2;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, pts[2 * i]);
      x1 = Math.max(x1, pts[2 * i]);
      y0 = Math.min(y0, pts[2 * i + 1]);
      y1 = Math.max(y1, pts[2 * i + 1]);
    }
    const b = this.bounds(x0 - 1, y0 - 1, x1 + 1, y1 + 1);
    const SUB = 2;
    const xs = this.crossings.length >= n ? this.crossings : (this.crossings = new Float64Array(n));
    for (let y = b[1]; y < b[3]; y++) {
      for (let sub = 0; sub < SUB; sub++) {
        const sy = y - 0.5 + (sub + 0.5) / SUB;
        let m = 0;
        for (let i = 0, j = n - 1; i < n; j = i++) {
          const ay = pts[2 * j + 1];
          const by = pts[2 * i + 1];
          if (ay <= sy === by <= sy) continue;
          const ax = pts[2 * j];
          const bx = pts[2 * i];
          // Insertion sort: a face outline crosses a row only a few times.
          const cx = ax + ((sy - ay) / (by - ay)) * (bx - ax);
          let k = m++;
          while (k > 0 && xs[k - 1] > cx) {
            xs[k] = xs[k - 1];
            k--;
          }
          xs[k] = cx;
        }
        for (let k = 0; k + 1 < m; k += 2) {
          const left = xs[k];
          const right = xs[k + 1];
          const from = Math.max(b[0], Math.round(left));
          const to = Math.min(b[2] - 1, Math.round(right));
          for (let x = from; x <= to; x++) {
            const overlap = Math.min(right, x + 0.5) - Math.max(left, x - 0.5);
            if (overlap > 0) into[y * this.width + x] += overlap / SUB;
          }
        }
      }
    }
    return b;
  }

  /** Coverage of a stroked polyline of the given width (round joins and caps). */
  private stroke(into: Float32Array, pts: ArrayLike<number>, width: number, closed: boolean): Bounds {
    const n = pts.length / 2;
    const half = width / 2;
    let all: Bounds | undefined;
    const segments = closed ? n : n - 1;
    for (let i = 0; i < segments; i++) {
      const ax = pts[2 * i];
      const ay = pts[2 * i + 1];
      const bx = pts[(2 * i + 2) % (2 * n)];
      const by = pts[(2 * i + 3) % (2 * n)];
      const b = this.bounds(
        Math.min(ax, bx) - half - 1,
        Math.min(ay, by) - half - 1,
        Math.max(ax, bx) + half + 1,
        Math.max(ay, by) + half + 1,
      );
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy || 1;
      for (let y = b[1]; y < b[3]; y++) {
        for (let x = b[0]; x < b[2]; x++) {
          let t = ((x - ax) * dx + (y - ay) * dy) / len2;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const ex = ax + t * dx - x;
          const ey = ay + t * dy - y;
          const a = half - Math.sqrt(ex * ex + ey * ey) + 0.5;
          if (a > 0) into[y * this.width + x] = Math.max(into[y * this.width + x], a > 1 ? 1 : a);
        }
      }
      all = all
        ? [Math.min(all[0], b[0]), Math.min(all[1], b[1]), Math.max(all[2], b[2]), Math.max(all[3], b[3])]
        : b;
    }
    return all ?? [0, 0, 0, 0];
  }

  /** Blends the coverage mask (times the clip mask, if used) onto the pixels, then clears both. */
  private paint(b: Bounds, color: Paint, alpha: number, clipped: boolean): void {
    const w = this.width;
    for (let y = b[1]; y < b[3]; y++) {
      for (let x = b[0]; x < b[2]; x++) {
        const i = y * w + x;
        // Coverage may exceed 1 where polygon sub-rows add up; clamp here rather than in a pass of its own.
        let a = this.cover[i] > 1 ? 1 : this.cover[i];
        if (clipped) a *= this.clip[i] > 1 ? 1 : this.clip[i];
        this.cover[i] = 0;
        if (a <= 0) continue;
        a *= alpha;
        const c = typeof color === 'number' ? color : color(x, y);
        this.pixels[i] += (c - this.pixels[i]) * a;
      }
    }
    if (clipped) this.clip.fill(0);
  }

  /**
   * Restricts the next fill to a polygon (x,y pairs): used to keep an iris
   * inside its eye, teeth inside the mouth.
   */
  clipToPolygon(pts: ArrayLike<number>): void {
    this.polygon(this.clip, pts);
  }

  /** Sets every pixel to a linear gradient: `base + gx * (x - cx) + gy * (y - cy)` around the centre. */
  fillGradient(base: number, gx: number, gy: number): void {
    const cx = this.width / 2;
    const cy = this.height / 2;
    for (let y = 0; y < this.height; y++) {
      const row = base + gy * (y - cy) - gx * cx;
      for (let x = 0; x < this.width; x++) this.pixels[y * this.width + x] = row + gx * x;
    }
  }

  fillEllipse(
    cx: number,
    cy: number,
    rx: number,
    ry: number,
    angle: number,
    color: Paint,
    alpha = 1,
    clipped = false,
  ): void {
    this.paint(this.ellipse(this.cover, cx, cy, rx, ry, angle), color, alpha, clipped);
  }

  fillPolygon(pts: ArrayLike<number>, color: Paint, alpha = 1): void {
    this.paint(this.polygon(this.cover, pts), color, alpha, false);
  }

  strokePolyline(pts: ArrayLike<number>, width: number, color: Paint, alpha = 1, closed = false): void {
    this.paint(this.stroke(this.cover, pts, width, closed), color, alpha, false);
  }
}
