// The dashboard's login form: POST /ui/login with a key id and secret; the
// host answers with an HttpOnly session cookie, then back to the dashboard.

const form = document.getElementById('login');
const error = document.getElementById('login-error');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const body = {
    access_key_id: form.elements.access_key_id.value.trim(),
    secret_access_key: form.elements.secret_access_key.value,
  };
  let resp;
  try {
    resp = await fetch('/ui/login', {
      method: 'POST',
      cache: 'no-store',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Lamina-CSRF': '1' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    error.textContent = `cannot reach the host (${e.message})`;
    return;
  }
  if (resp.ok) {
    location.assign(`/ui/${location.hash}`);
    return;
  }
  let message = `${resp.status}`;
  try {
    message = (await resp.json()).message || message;
  } catch { /* not JSON */ }
  error.textContent = `Login failed: ${message}`;
});
