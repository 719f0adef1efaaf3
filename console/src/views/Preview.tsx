import { useDeferredValue, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { graphql, type VariablesOf } from '../graphql';
import { ErrorNote, Json, Section } from '../ui';

const PreviewQuery = graphql(`
  query Preview($webhookId: ID!, $event: PublishEventInput!) {
    previewPayload(webhookId: $webhookId, event: $event) {
      url
      method
      headers
      body
    }
  }
`);

const DraftQuery = graphql(`
  query PreviewDraft($webhook: CreateWebhookInput!, $event: PublishEventInput!) {
    previewNewWebhook(webhook: $webhook, event: $event) {
      url
      method
      headers
      body
    }
  }
`);

export type Draft = VariablesOf<typeof DraftQuery>['webhook'];

const pretty = (body: string) => {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
};

/**
 * The exact request the webhook would get for a sample event, as the server renders it
 * (previewPayload: signatures are placeholders, secrets masked). It follows the event fields as
 * they are typed: of a saved webhook (the page remounts it after each save), or of the form's
 * settings before the webhook is created (previewNewWebhook).
 */
export function Preview({ webhookId, draft }: { webhookId?: string; draft?: Draft | null }) {
  const [eventType, setEventType] = useState('entityUpdated');
  const [entityType, setEntityType] = useState('table');
  const [entityFqn, setEntityFqn] = useState('db.sales.orders');
  const [data, setData] = useState('{"domain": {"type": "domain", "name": "Sales"}}');
  const parsed = useMemo((): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: data.trim() ? JSON.parse(data) : null };
    } catch {
      return { ok: false };
    }
  }, [data]);
  const dataError = parsed.ok ? '' : 'data is not JSON';
  // One object per change of the fields, so the deferred value changes only when they do;
  // deferred so that typing stays smooth while the preview follows.
  const typed = useMemo(
    () => ({
      eventType,
      entityType,
      entityFqn,
      data: parsed.ok ? parsed.value : null,
      actor: { name: 'console' },
    }),
    [eventType, entityType, entityFqn, parsed],
  );
  const event = useDeferredValue(typed);
  const settings = useDeferredValue(draft);
  const [saved] = useQuery({
    query: PreviewQuery,
    variables: { webhookId: webhookId ?? '', event },
    pause: !!dataError || !eventType || !webhookId,
    requestPolicy: 'network-only',
  });
  const [unsaved] = useQuery({
    query: DraftQuery,
    variables: { webhook: settings!, event },
    pause: !!dataError || !eventType || !settings,
    requestPolicy: 'network-only',
  });
  const res = webhookId ? saved : unsaved;
  const p = webhookId ? saved.data?.previewPayload : unsaved.data?.previewNewWebhook;
  return (
    <Section title="Request preview">
      <div className="filters">
        <input aria-label="Event type" value={eventType} onChange={(e) => setEventType(e.target.value)} />
        <input aria-label="Entity type" value={entityType} onChange={(e) => setEntityType(e.target.value)} />
        <input aria-label="Entity FQN" value={entityFqn} onChange={(e) => setEntityFqn(e.target.value)} />
      </div>
      <textarea
        aria-label="Event data (JSON)"
        rows={2}
        value={data}
        onChange={(e) => setData(e.target.value)}
      />
      {dataError && <p className="error">{dataError}</p>}
      <ErrorNote error={res.error} />
      {p && (
        <div data-testid="preview">
          <p>
            <code>
              {p.method} {p.url}
            </code>
          </p>
          <Json value={p.headers} />
          <Json value={pretty(p.body)} />
        </div>
      )}
    </Section>
  );
}
