// Thumbnails cut from the dataset's sprite sheet with CSS (no canvas copies).
import { h } from './dom.js';

/** @typedef {{url: string, width: number, height: number, tileW: number, tileH: number, cols: number}} SpriteInfo */

/**
 * @param {SpriteInfo | null} sprite @param {number} index @param {number} size CSS px
 * @returns {HTMLElement | null}
 */
export function thumbnail(sprite, index, size = 64) {
  if (!sprite) return null;
  const col = index % sprite.cols;
  const row = Math.floor(index / sprite.cols);
  if ((row + 1) * sprite.tileH > sprite.height) return null;
  const sx = size / sprite.tileW, sy = size / sprite.tileH;
  return h('div', {
    class: 'thumb',
    role: 'img',
    'aria-label': `thumbnail of point ${index}`,
    style: {
      width: `${size}px`,
      height: `${size}px`,
      backgroundImage: `url("${sprite.url}")`,
      backgroundSize: `${sprite.width * sx}px ${sprite.height * sy}px`,
      backgroundPosition: `${-col * sprite.tileW * sx}px ${-row * sprite.tileH * sy}px`,
    },
  });
}
