// The remembered theme (app/theme.js), set before the page paints so night mode never flashes white.
try {
  const theme = localStorage.getItem('projector.theme');
  if (theme === 'dark' || (theme === null && matchMedia('(prefers-color-scheme: dark)').matches)) {
    document.documentElement.dataset.theme = 'dark';
  }
} catch (e) { /* storage disabled: light theme */ }
