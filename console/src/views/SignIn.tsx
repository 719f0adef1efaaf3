import { type FormEvent, useState } from 'react';
import { setToken } from '../token';

/** Checks the token against the API before keeping it, so a typo is said at once. */
export function SignIn({ onSignedIn, message }: { onSignedIn: () => void; message?: string }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(message ?? '');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${value.trim()}` },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      if (res.status === 401) setError('That token is not valid.');
      else if (!res.ok) setError(`The server answered ${res.status}.`);
      else {
        setToken(value.trim());
        onSignedIn();
      }
    } catch {
      setError('The server could not be reached.');
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="signin">
      <form onSubmit={submit} className="card">
        <h1>Hookline console</h1>
        <p>Sign in with an API token. It is kept in this tab only, until you close it or sign out.</p>
        <label>
          API token
          <input
            type="password"
            name="token"
            autoComplete="current-password"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || !value.trim()}>
          Sign in
        </button>
      </form>
    </main>
  );
}
