// Colour palettes, built in the OKLCH perceptual space so that neighbouring
// categories stay distinguishable well past 50 of them. Pure functions.

/**
 * OKLCH (L 0..1, C ~0..0.4, h degrees) to 8-bit sRGB, reducing chroma until
 * the colour fits in the sRGB gamut.
 * @param {number} L @param {number} C @param {number} h
 * @returns {[number, number, number]}
 */
export function oklchToRgb(L, C, h) {
  for (let c = C; c >= 0; c -= 0.005) {
    const rgb = oklabToLinear(L, c * Math.cos((h * Math.PI) / 180), c * Math.sin((h * Math.PI) / 180));
    if (rgb.every((v) => v >= -1e-4 && v <= 1 + 1e-4)) {
      return /** @type {[number, number, number]} */ (rgb.map((v) => Math.round(255 * encodeSrgb(v))));
    }
  }
  const g = Math.round(255 * encodeSrgb(L * L * L));
  return [g, g, g];
}

/** OKLab to linear-light sRGB (Ottosson's published matrices). */
function oklabToLinear(L, a, b) {
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  return [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
}

/** @param {number} v linear 0..1 */
function encodeSrgb(v) {
  v = Math.min(1, Math.max(0, v));
  return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
}

/** Grey used for the long tail ("other") and for missing values. */
export const OTHER_RGB = [176, 176, 182];
/** Colour of every point when nothing is coloured. */
export const DEFAULT_RGB = [38, 110, 200];

/** How many categories get their own colour; the rest are "other". */
export const MAX_DISTINCT = 120;

/**
 * n distinct colours, in rings of HUES_PER_RING evenly spaced hues. Each ring
 * has its own lightness (and a hue offset), so the most frequent categories
 * (first ring) differ most and later ones still differ in hue or lightness.
 * @param {number} n
 * @returns {Uint8Array} n*3 bytes
 */
export function categoricalPalette(n) {
  const out = new Uint8Array(n * 3);
  const lightness = [0.64, 0.46, 0.8, 0.36, 0.72, 0.55];
  const chroma = [0.16, 0.13, 0.12, 0.1, 0.14, 0.11];
  for (let i = 0; i < n; i++) {
    const ring = Math.floor(i / HUES_PER_RING);
    const step = i % HUES_PER_RING;
    // Alternate around the wheel (0, 5, 1, 6, ...) so neighbours in the legend are far apart.
    const slot = (step % 2) * (HUES_PER_RING / 2) + Math.floor(step / 2);
    const hue = (30 + slot * (360 / HUES_PER_RING) + ((ring * 13) % 36)) % 360;
    // Hues next to each other on the wheel sit in opposite halves of the ring: vary their lightness.
    const L = lightness[ring % 6] + (slot < HUES_PER_RING / 2 ? 0.05 : -0.07);
    const [r, g, b] = oklchToRgb(L, chroma[ring % 6], hue);
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return out;
}
const HUES_PER_RING = 10;

// Control points (OKLCH) of the numeric ramp: dark violet to pale yellow,
// lightness rising monotonically so order reads even in greyscale.
const RAMP = [
  [0.3, 0.13, 300],
  [0.45, 0.15, 265],
  [0.6, 0.12, 215],
  [0.74, 0.15, 150],
  [0.93, 0.17, 105],
];

/**
 * A 256-entry lookup table of the numeric colormap.
 * @returns {Uint8Array} 256*3 bytes
 */
export function numericRamp() {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (RAMP.length - 1);
    const k = Math.min(RAMP.length - 2, Math.floor(t));
    const f = t - k;
    const [L0, C0, h0] = RAMP[k];
    const [L1, C1, h1] = RAMP[k + 1];
    const rgb = oklchToRgb(L0 + (L1 - L0) * f, C0 + (C1 - C0) * f, h0 + (h1 - h0) * f);
    out.set(rgb, i * 3);
  }
  return out;
}

/** CSS colour of palette entry i. @param {Uint8Array} palette @param {number} i */
export function cssColor(palette, i) {
  return `rgb(${palette[i * 3]}, ${palette[i * 3 + 1]}, ${palette[i * 3 + 2]})`;
}
