// Small DOM helpers shared by the panels.

/**
 * Create an element: h('button', {class: 'x', onclick: fn}, 'text', child).
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key in el && typeof value !== 'string') /** @type {any} */ (el)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
  return el;
}

/** @param {HTMLSelectElement} select @param {{value: string, label: string}[]} options @param {string} [value] */
export function setOptions(select, options, value) {
  select.replaceChildren(...options.map((o) => h('option', { value: o.value }, o.label)));
  if (value !== undefined && options.some((o) => o.value === value)) select.value = value;
}

/** 1234567 -> "1,234,567" */
export const fmtInt = (n) => Number(n).toLocaleString('en-US');

/** Short number for distances and ranges. @param {number} x */
export function fmtNum(x) {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

/** Debounce. @template {(...a: any[]) => void} F @param {F} fn @param {number} ms */
export function debounce(fn, ms) {
  let t = 0;
  return /** @type {F} */ ((...args) => {
    clearTimeout(t);
    t = window.setTimeout(() => fn(...args), ms);
  });
}
