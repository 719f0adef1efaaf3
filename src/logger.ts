import { pino } from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/**
 * JSON logs on stdout. Redaction is a second line of defence: code never logs secrets, but a
 * header or input object logged by accident must not carry one out.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hookline' },
      redact: {
        paths: [
          '*.authorization',
          '*.headers.authorization',
          '*.secretKey',
          '*.password',
          '*.token',
          '*.secrets',
          'params',
          '*.params',
        ],
        censor: '[redacted]',
      },
      serializers: { err: serializeError },
    },
    destination,
  );
}

/**
 * drizzle puts the SQL parameters (which may hold a webhook's secrets) in its error messages,
 * so an error is logged as its class, code and the driver's own message only.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const cause = error.cause as { message?: string; code?: string } | undefined;
  const fromDriver = error.name === 'DrizzleQueryError' || error.message.startsWith('Failed query');
  return {
    type: error.name,
    message: fromDriver ? `database query failed: ${cause?.message ?? 'unknown cause'}` : error.message,
    code: (error as { code?: unknown }).code ?? cause?.code,
    stack: fromDriver ? undefined : error.stack,
  };
}
