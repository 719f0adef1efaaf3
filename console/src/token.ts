/**
 * The API token lives in sessionStorage only: it survives a reload of this tab, is gone when
 * the tab closes, and never stays in the address bar, a log or a URL after sign-in.
 */
const KEY = 'hookline.token';

/** Takes `#token=<token>` (a portal link) out of the address into sessionStorage. */
export function takeTokenFromAddress(): void {
  const match = /^#token=([^&]+)/.exec(window.location.hash);
  if (!match?.[1]) return;
  sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
  // replaceState: the link with the token is not kept in the history either.
  history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/webhooks`);
}

export const getToken = (): string | null => sessionStorage.getItem(KEY);
export const setToken = (token: string) => sessionStorage.setItem(KEY, token);
export const clearToken = () => sessionStorage.removeItem(KEY);
