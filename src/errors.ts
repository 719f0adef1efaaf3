import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TARGET_NOT_ALLOWED'
  | 'SUBSCRIBER_TOO_SLOW'
  | 'TOO_MANY_SUBSCRIPTIONS'
  | 'RATE_LIMITED';

// What an HTTP response carrying the error answers (an SSE stream refused before it starts).
const httpStatus: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401, TOO_MANY_SUBSCRIPTIONS: 429 };

export interface DomainErrorDetails {
  /** Dotted path of the offending input field, relative to one input object (`config.endpoint`). */
  field?: string;
  /** Position in a list argument such as `createWebhooks(inputs)`. */
  index?: number;
  [key: string]: unknown;
}

/**
 * The one error class for failures a client can act on. Yoga passes GraphQLErrors through
 * unmasked, so `extensions.code` and `extensions.field` reach the client; anything else stays
 * masked as an internal error.
 */
export class DomainError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, details: DomainErrorDetails = {}) {
    const status = httpStatus[code];
    super(message, {
      extensions: { code, ...details, ...(status ? { http: { status } } : {}) },
    });
    this.code = code;
    this.name = 'DomainError';
  }
}

export const badInput = (field: string, message: string, details: DomainErrorDetails = {}) =>
  new DomainError('BAD_USER_INPUT', message, { field, ...details });

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} was not found`);
