// Night mode: a dark theme for the page and the scatter, remembered in localStorage.
// theme-boot.js applies the remembered choice before the first paint.

export const THEME_KEY = 'projector.theme';

/** @returns {'dark' | 'light'} */
export const currentTheme = () => (document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light');

/** @param {import('./state.js').App} app @param {HTMLButtonElement} button the toggle */
export function install(app, button) {
  /** @param {'dark' | 'light'} theme @param {boolean} remember */
  const apply = (theme, remember) => {
    document.documentElement.dataset.theme = theme;
    if (remember) {
      try {
        localStorage.setItem(THEME_KEY, theme);
      } catch { /* storage disabled: the choice lasts for this page */ }
    }
    app.scene.setTheme(theme === 'dark');
    button.textContent = theme === 'dark' ? '☀ Day' : '☾ Night';
    button.title = theme === 'dark' ? 'Switch to the light theme' : 'Switch to night mode';
    button.setAttribute('aria-pressed', String(theme === 'dark'));
    app.bus.emit('theme', { theme });
  };
  button.addEventListener('click', () => apply(currentTheme() === 'dark' ? 'light' : 'dark', true));
  apply(currentTheme(), false);
}
