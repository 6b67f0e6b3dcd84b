// The login page: posts the form, then goes back to the page asked for.

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');
const submit = document.getElementById('login-submit');

// next is where to go once logged in: only a path of this site.
function next() {
  const n = new URLSearchParams(location.search).get('next') || '';
  return /^\/(?![/\\])/.test(n) ? n : '/search';
}

function showError(msg) {
  error.textContent = msg;
  error.hidden = false;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  try {
    const resp = await fetch('/login', {
      method: 'POST',
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (resp.ok) {
      location.assign(next());
      return;
    }
    let msg = `${resp.status} ${resp.statusText}`;
    try {
      msg = (await resp.json()).error || msg;
    } catch {
      // not JSON: keep the status line
    }
    showError(msg);
    const pw = document.getElementById('password');
    pw.value = '';
    pw.focus();
  } catch (err) {
    showError(`Cannot reach the server: ${err.message}`);
  } finally {
    submit.disabled = false;
  }
});

document.getElementById('user').focus();
