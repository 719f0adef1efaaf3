/**
 * Kpow's `error.required_action`: what the caller has to do for a refused request to succeed.
 * Given only where the refusal itself says it (its code and extensions); an unexpected error
 * has no known remedy, and gets none rather than a guess.
 */
export function requiredAction(code: string, extensions: Record<string, unknown>): string | null {
  const field = typeof extensions.field === 'string' ? extensions.field : null;
  switch (code) {
    case 'BAD_USER_INPUT':
      return field
        ? `correct ${field} and send the request again`
        : 'correct the input and send the request again';
    case 'TARGET_NOT_ALLOWED':
      return 'point config.endpoint at a public address, or have the operator allow it in HOOKLINE_ALLOW_PRIVATE_TARGETS';
    case 'FORBIDDEN':
      return field
        ? `leave out ${field}, or send the request with a token whose role may set it`
        : 'send the request with a token whose role may do this';
    case 'NOT_FOUND':
      return 'check the id: it does not exist for this token';
    case 'CONFLICT':
      if (typeof extensions.currentVersion === 'number') {
        return `read the webhook again (it is at version ${extensions.currentVersion}) and retry with that expectedVersion`;
      }
      if (field === 'name') return 'choose another name';
      if (field === 'id')
        return 'wait for what holds it to finish, or restore it if it is deleted, then retry';
      return 'resolve the conflict and retry';
    case 'RATE_LIMITED':
      return typeof extensions.retryAfterSeconds === 'number'
        ? `wait ${extensions.retryAfterSeconds} s before the next request`
        : 'slow down and retry';
    default:
      return null;
  }
}
