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
 * n distinct colours. Hues step by the golden angle so consecutive indices
 * are far apart; lightness and chroma cycle through levels so that colours
 * sharing a hue region differ in brightness.
 * @param {number} n
 * @returns {Uint8Array} n*3 bytes
 */
export function categoricalPalette(n) {
  const out = new Uint8Array(n * 3);
  const lightness = [0.66, 0.5, 0.8, 0.4];
  const chroma = [0.17, 0.13, 0.1];
  for (let i = 0; i < n; i++) {
    const hue = (25 + i * 137.50776) % 360;
    const L = lightness[i % 4];
    const C = chroma[Math.floor(i / 4) % 3];
    const [r, g, b] = oklchToRgb(L, C, hue);
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return out;
}

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
