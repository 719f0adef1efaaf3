import type { HooklineEvent } from './event.js';
import type { WebhookStatus } from './webhook.js';

export const deliveryStatuses = [
  'PENDING',
  'IN_FLIGHT',
  'SUCCEEDED',
  'AWAITING_RETRY',
  'FAILED',
  'DISCARDED',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const errorKinds = [
  'TIMEOUT',
  'CONNECTION',
  'TLS',
  'HTTP_STATUS',
  'CONFIGURATION',
  'TARGET_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
] as const;
export type ErrorKind = (typeof errorKinds)[number];

export interface Delivery {
  id: string;
  tenantId: string;
  eventId: string;
  webhookId: string;
  status: DeliveryStatus;
  attemptCount: number;
  scheduleStart: number;
  discardFrom: Date | null;
  nextAttemptAt: Date | null;
  leaseUntil: Date | null;
  leasedBy: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** A delivery with the event its request is built from, as the dispatcher sends it. */
export interface DeliveryJob {
  delivery: Delivery;
  event: HooklineEvent;
}

/** An attempt as the history shows it; its request body is read apart, when asked for. */
export interface RecordedAttempt {
  id: string;
  tenantId: string;
  deliveryId: string;
  webhookId: string;
  attemptNumber: number;
  status: DeliveryStatus;
  startedAt: Date;
  durationMs: number;
  requestUrl: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  errorKind: ErrorKind | null;
  errorMessage: string | null;
}

/** An attempt as the dispatcher records it. */
export interface DeliveryAttempt extends RecordedAttempt {
  requestBody: string;
  /** The body as stored, when it differs from `requestBody` (see deliveries/body.ts). */
  storedBody?: string;
}

/** What one request to a webhook came to: its attempts, and the webhook's new status. */
export interface DeliveryReport {
  webhookId: string;
  attempts: DeliveryAttempt[];
  /** The webhook's new status, when this request changed it. */
  webhookStatus: WebhookStatus | null;
}
